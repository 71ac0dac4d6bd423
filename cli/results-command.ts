import { Command } from "commander";
import { RecentIds } from "../jobs/recent-ids.js";
import { FOLLOW_LOOKBACK_MS } from "../jobs/results-reader.js";
import { withProducer } from "../jobs/with-producer.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { durationOption, integerOption, problemOf, refuse } from "./options.js";
import { shutdownSignal } from "./shutdown-signal.js";
import { tenantOption } from "./tenant-option.js";

interface ResultsOptions {
  follow?: boolean;
  campaign?: string;
  tenant?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

export function resultsCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("results")
    .description(
      "Print the results kept for RESULT_RETENTION, newest first, without consuming any results queue.",
    )
    .option("--since <duration>", "only results finished within this long (90s, 30m, 2h, 7d)")
    .option("--limit <n>", "at most this many results (the newest)")
    .option("--follow", "then keep printing new results as jobs finish, oldest first (Ctrl-C stops)")
    .option("--campaign <id>", "only the results of this campaign")
    .option("--tenant <id|name>", "only the results of this tenant (a GUID, or a name from MDE_TENANTS_FILE)")
    .option("--json", "print JSON Lines")
    .action(async (opts: ResultsOptions) => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      let tenantId: string | undefined;
      refuse([
        problemOf(() => {
          tenantId = tenantOption(config, environment, opts.tenant, false);
        }),
        problemOf(() => opts.since === undefined || durationOption("--since", opts.since)),
        problemOf(() => opts.limit === undefined || integerOption("--limit", opts.limit, 1)),
      ]);
      const startedAt = Date.now();
      const read = {
        campaignId: opts.campaign,
        tenantId,
        since: opts.since === undefined ? undefined : startedAt - durationOption("--since", opts.since),
        limit: opts.limit === undefined ? undefined : Number(opts.limit),
      };
      const print = (r: CancelResult) =>
        process.stdout.write(`${opts.json ? JSON.stringify(r) : formatResult(r)}\n`);
      await withProducer(config, async (producer) => {
        // A follower skips what was just printed; it needs only the ids its first read can return.
        const printed = new RecentIds();
        for await (const result of producer.streamResults(read)) {
          print(result);
          const at = Date.parse(result.finishedAt);
          if (opts.follow && at >= startedAt - FOLLOW_LOOKBACK_MS) printed.add(result.jobId, at);
        }
        if (!opts.follow) return;
        const shutdown = shutdownSignal();
        try {
          await producer.followResults(print, {
            campaignId: opts.campaign,
            tenantId,
            signal: shutdown.signal,
            seen: printed,
          });
        } finally {
          shutdown.release();
        }
      });
    });
}

export function formatResult(r: CancelResult): string {
  const detail = r.error ? `${r.error.code}: ${r.error.message}` : (r.status ?? "-");
  return [r.finishedAt, r.outcome.padEnd(16), r.machineActionId ?? "-", detail, `job ${r.jobId}`].join("  ");
}
