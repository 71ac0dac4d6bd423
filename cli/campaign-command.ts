import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { Command } from "commander";
import { checkCampaign, DEFAULT_CAMPAIGN_PRIORITY } from "../jobs/campaign.js";
import type { CampaignOrder } from "../jobs/campaign-order.js";
import { describeProblems, parseIds } from "../jobs/ids-file.js";
import type { Producer } from "../jobs/producer.js";
import { withProducer } from "../jobs/with-producer.js";
import { type Config, parseConfig, readEnvironment } from "../shared/config/config.js";
import { formatDuration } from "../shared/config/durations.js";
import { MAX_COMMENT_CHARS, MAX_PRIORITY } from "../shared/contract/limits.js";
import { UsageError } from "../shared/core/errors.js";
import { runAbort } from "./campaign-abort.js";
import { ProgressView, printDryRun, printSummary } from "./campaign-view.js";
import { cliClient } from "./cli-client.js";
import { durationOption, integerOption, problemOf, refuse } from "./options.js";
import { shutdownSignal, signalExitCode } from "./shutdown-signal.js";
import { tenantOption } from "./tenant-option.js";

interface CampaignOptions {
  comment?: string;
  abort?: string;
  idsFile?: string;
  filter?: string;
  max: string;
  yes?: boolean;
  retryFailed?: string;
  tenant?: string;
  name?: string;
  priority?: string;
  dryRun?: boolean;
  wait?: boolean;
  timeout?: string;
  json?: boolean;
}

export function campaignCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("campaign")
    .description(
      "Cancel many actions: from an ids file, an OData filter, or the failures of a past campaign.",
    )
    .option(
      "--comment <text>",
      `cancellation comment sent to Defender (1..${MAX_COMMENT_CHARS} characters); required but with --abort`,
    )
    .option("--ids-file <path>", "one id per line, or CSV with a machineActionId or id column; - reads stdin")
    .option(
      "--filter <odata>",
      "OData $filter for GET /api/machineactions; only non-terminal matches are enqueued",
    )
    .option("--max <n>", "refuse a filter matching more than this many cancellable actions", "1000")
    .option("--yes", "do not ask for confirmation on a terminal")
    .option(
      "--retry-failed <campaignId>",
      "enqueue again the actions of that campaign whose outcome was failed",
    )
    .option("--tenant <id|name>", "tenant GUID, or name from MDE_TENANTS_FILE (default: the default tenant)")
    .option("--name <s>", "campaign id (default: generated)")
    .option(
      "--priority <n>",
      `BullMQ priority 1..${MAX_PRIORITY} (default ${DEFAULT_CAMPAIGN_PRIORITY}: behind every urgent cancel)`,
    )
    .option("--dry-run", "resolve and report what would be enqueued; enqueue nothing")
    .option("--wait", "show progress until every action has its outcome; exit 1 if any failed")
    .option(
      "--timeout <duration>",
      "with --wait: stop waiting after this long (90s, 30m, 2h...) with exit 1; the campaign goes on",
    )
    .option(
      "--abort <campaignId>",
      "finish the campaign's jobs that wait and have sent no cancel, each failed with code aborted",
    )
    .option("--json", "print JSON instead of text")
    .action((opts: CampaignOptions) => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      return opts.abort === undefined
        ? runCampaign(config, environment, opts)
        : runAbort(config, opts.abort, opts);
    });
}

async function runCampaign(
  config: Config,
  environment: Record<string, string | undefined>,
  opts: CampaignOptions,
): Promise<void> {
  const order = campaignOrder(config, environment, opts);
  const timeoutMs = opts.timeout === undefined ? undefined : durationOption("--timeout", opts.timeout);
  const json = Boolean(opts.json);
  const print = (text: string) => process.stdout.write(`${text}\n`);
  const run = async (producer: Producer) => {
    if (opts.dryRun) {
      const found = await producer.dryRun(order);
      printDryRun(process.stdout, { ...found, json });
      return;
    }
    const ask = "filter" in order.source && process.stdin.isTTY && !opts.yes;
    const started = await producer.startCampaign(order, { confirm: ask ? confirm : undefined });
    if (!started) print("Nothing was enqueued.");
    else if (opts.wait) await waitAndReport(producer, started.campaignId, { json, timeoutMs });
    else if (json) print(JSON.stringify(started));
    else {
      print(`Campaign ${started.campaignId}: ${started.added} job(s) enqueued.`);
      if (started.alreadyQueued.length > 0)
        print(`${started.alreadyQueued.length} action(s) already had a job in flight and were left to it.`);
    }
  };
  await withProducer(config, run, { client: cliClient(), env: environment });
}

/**
 * The options as a campaign order: every argument checked, each bad one named at once, and an ids
 * file read and parsed, before Redis is asked or a filter spends list budget.
 */
function campaignOrder(
  config: Config,
  environment: Record<string, string | undefined>,
  opts: CampaignOptions,
): CampaignOrder {
  const sources = [opts.idsFile, opts.filter, opts.retryFailed].filter((s) => s !== undefined);
  let tenantId: string | undefined;
  refuse(
    [
      sources.length === 1 ? undefined : "give exactly one of --ids-file, --filter or --retry-failed",
      problemOf(() => integerOption("--max", opts.max, 1)),
      problemOf(
        () => opts.priority === undefined || integerOption("--priority", opts.priority, 1, MAX_PRIORITY),
      ),
      opts.comment === undefined ? "--comment <text> is required" : undefined,
      problemOf(() => checkCampaign({ comment: opts.comment ?? "-", campaignId: opts.name })),
      problemOf(() => opts.timeout === undefined || durationOption("--timeout", opts.timeout)),
      opts.timeout === undefined || opts.wait ? undefined : "--timeout needs --wait",
      // The tenant whose actions these are: named, else the default one.
      problemOf(() => {
        tenantId = tenantOption(config, environment, opts.tenant, true);
      }),
    ],
    "Nothing was enqueued: ",
  );
  const max = Number(opts.max);
  const priority = opts.priority === undefined ? undefined : Number(opts.priority);
  const base = {
    tenantId,
    comment: opts.comment as string,
    campaignId: opts.name,
    priority,
  };
  if (opts.filter !== undefined) return { ...base, source: { filter: opts.filter, max } };
  if (opts.retryFailed !== undefined) return { ...base, source: { retryFailed: opts.retryFailed } };
  const path = opts.idsFile as string;
  const text = readIdsFile(path);
  const parsed = parseIds(text);
  if (parsed.problems.length > 0)
    throw new UsageError(
      `${path} has lines that are not machine action GUIDs: ${describeProblems(parsed.problems)}. Nothing was enqueued.`,
    );
  return { ...base, source: { ids: parsed.ids, label: `ids-file ${path === "-" ? "(stdin)" : path}` } };
}

async function waitAndReport(
  producer: Producer,
  campaignId: string,
  options: { json: boolean; timeoutMs?: number },
): Promise<void> {
  const view = new ProgressView(process.stderr, Boolean(process.stderr.isTTY) && !options.json);
  const shutdown = shutdownSignal();
  const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  try {
    const record = await producer.waitForCampaign(campaignId, {
      signal: timeout ? AbortSignal.any([shutdown.signal, timeout]) : shutdown.signal,
      onSample: (sample) => view.update(sample),
    });
    view.stop();
    if (!record) {
      const after = shutdown.signal.aborted
        ? ""
        : ` after ${formatDuration(options.timeoutMs ?? 0)} (--timeout)`;
      process.stderr.write(
        `Stopped waiting${after}; campaign ${campaignId} goes on (mde-cancel status shows it).\n`,
      );
      process.exitCode = shutdown.signal.aborted ? signalExitCode(shutdown.signal.reason) : 1;
      return;
    }
    const failedIds = record.counts.failed > 0 ? await producer.failedActions(campaignId) : [];
    printSummary(process.stdout, record, failedIds, options.json);
    process.exitCode = record.counts.failed > 0 ? 1 : 0;
  } finally {
    shutdown.release();
  }
}

async function confirm(count: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Enqueue ${count} cancel(s)? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function readIdsFile(path: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (err) {
    throw new UsageError(
      `--ids-file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}).`,
    );
  }
}
