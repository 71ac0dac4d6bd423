import { Command } from "commander";
import { withProducer } from "../jobs/with-producer.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { shutdownSignal } from "./shutdown-signal.js";
import { tenantOption } from "./tenant-option.js";

export function resultsCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("results")
    .description("Print the results kept for RESULT_RETENTION, without consuming any results queue.")
    .option("--follow", "keep printing new results as jobs finish (Ctrl-C stops)")
    .option("--campaign <id>", "only the results of this campaign")
    .option("--tenant <id|name>", "only the results of this tenant (a GUID, or a name from MDE_TENANTS_FILE)")
    .option("--json", "print JSON Lines")
    .action(async (opts: { follow?: boolean; campaign?: string; tenant?: string; json?: boolean }) => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      const tenantId = tenantOption(config, environment, opts.tenant, false);
      const print = (r: CancelResult) => {
        if (tenantId === undefined || r.tenantId === tenantId)
          process.stdout.write(`${opts.json ? JSON.stringify(r) : formatResult(r)}\n`);
      };
      const campaignId = opts.campaign;
      await withProducer(
        config,
        async (producer) => {
          for (const result of await producer.results({ campaignId })) print(result);
          if (!opts.follow) return;
          const shutdown = shutdownSignal();
          try {
            await producer.followResults(print, { campaignId, signal: shutdown.signal });
          } finally {
            shutdown.release();
          }
        },
        { env: environment },
      );
    });
}

export function formatResult(r: CancelResult): string {
  const detail = r.error ? `${r.error.code}: ${r.error.message}` : (r.status ?? "-");
  return [r.finishedAt, r.outcome.padEnd(16), r.machineActionId ?? "-", detail, `job ${r.jobId}`].join("  ");
}
