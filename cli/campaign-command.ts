import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { Command } from "commander";
import { DEFAULT_CAMPAIGN_PRIORITY } from "../jobs/campaign.js";
import type { CampaignOrder } from "../jobs/campaign-order.js";
import { describeProblems, parseIds } from "../jobs/ids-file.js";
import type { Producer } from "../jobs/producer.js";
import { withProducer } from "../jobs/with-producer.js";
import { type Config, parseConfig, readEnvironment } from "../shared/config/config.js";
import { MAX_COMMENT_CHARS, MAX_PRIORITY } from "../shared/contract/limits.js";
import { UsageError } from "../shared/core/errors.js";
import { ProgressView, printDryRun, printSummary } from "./campaign-view.js";
import { integerOption } from "./options.js";
import { shutdownSignal, signalExitCode } from "./shutdown-signal.js";
import { tenantOption } from "./tenant-option.js";

interface CampaignOptions {
  comment: string;
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
  json?: boolean;
}

export function campaignCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("campaign")
    .description(
      "Cancel many actions: from an ids file, an OData filter, or the failures of a past campaign.",
    )
    .requiredOption(
      "--comment <text>",
      `cancellation comment sent to Defender (1..${MAX_COMMENT_CHARS} characters)`,
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
    .option("--json", "print JSON instead of text")
    .action((opts: CampaignOptions) => runCampaign(readEnvironment(env, process.cwd()), opts));
}

async function runCampaign(
  environment: Record<string, string | undefined>,
  opts: CampaignOptions,
): Promise<void> {
  const config = parseConfig(environment);
  const order = campaignOrder(config, environment, opts);
  const json = Boolean(opts.json);
  const print = (text: string) => process.stdout.write(`${text}\n`);
  await withProducer(
    config,
    async (producer) => {
      if (opts.dryRun) {
        const found = await producer.dryRun(order);
        printDryRun(process.stdout, { ...found, json });
        return;
      }
      const ask = "filter" in order.source && process.stdin.isTTY && !opts.yes;
      const started = await producer.startCampaign(order, { confirm: ask ? confirm : undefined });
      if (!started) print("Nothing was enqueued.");
      else if (opts.wait) await waitAndReport(producer, started.campaignId, json);
      else if (json) print(JSON.stringify(started));
      else {
        print(`Campaign ${started.campaignId}: ${started.added} job(s) enqueued.`);
        if (started.alreadyQueued.length > 0)
          print(`${started.alreadyQueued.length} action(s) already had a job in flight and were left to it.`);
      }
    },
    { env: environment },
  );
}

/** The options as a campaign order: every argument checked (and an ids file read) before Redis is asked. */
function campaignOrder(
  config: Config,
  environment: Record<string, string | undefined>,
  opts: CampaignOptions,
): CampaignOrder {
  const sources = [opts.idsFile, opts.filter, opts.retryFailed].filter((s) => s !== undefined);
  if (sources.length !== 1)
    throw new UsageError("Give exactly one of --ids-file, --filter or --retry-failed.");
  const max = integerOption("--max", opts.max, 1);
  const priority =
    opts.priority === undefined ? undefined : integerOption("--priority", opts.priority, 1, MAX_PRIORITY);
  const tenantId = tenantOption(config, environment, opts.tenant, true);
  const base = { tenantId, comment: opts.comment, campaignId: opts.name, priority };
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

async function waitAndReport(producer: Producer, campaignId: string, json: boolean): Promise<void> {
  const view = new ProgressView(process.stderr, Boolean(process.stderr.isTTY) && !json);
  const shutdown = shutdownSignal();
  try {
    const record = await producer.waitForCampaign(campaignId, {
      signal: shutdown.signal,
      onSample: (sample) => view.update(sample),
    });
    view.stop();
    if (!record) {
      process.stderr.write(`Stopped waiting; campaign ${campaignId} goes on (mde-cancel status shows it).\n`);
      process.exitCode = signalExitCode(shutdown.signal.reason);
      return;
    }
    const failedIds = record.counts.failed > 0 ? await producer.failedActions(campaignId) : [];
    printSummary(process.stdout, record, failedIds, json);
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
