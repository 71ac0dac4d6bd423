import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { Command } from "commander";
import {
  type CampaignRequest,
  cancellable,
  clearStaleTickets,
  DEFAULT_CAMPAIGN_PRIORITY,
  DRY_RUN_LOOKUP,
  lookupActions,
  resolveFilter,
  startCampaign,
} from "../jobs/campaign.js";
import { budgetJobsPerMs, waitForCampaign } from "../jobs/campaign-progress.js";
import { describeProblems, parseIds } from "../jobs/ids-file.js";
import { type Config, parseConfig, readEnvironment } from "../shared/config/config.js";
import { requireWorkerCredentials } from "../shared/config/credentials.js";
import type { MachineAction } from "../shared/contract/cancel-result.js";
import { MAX_COMMENT_CHARS, MAX_PRIORITY } from "../shared/contract/limits.js";
import { UsageError } from "../shared/core/errors.js";
import { createLogger } from "../shared/core/logger.js";
import { createDefenderSession, createLimiter } from "../shared/defender/defender-session.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import { connectRedis } from "../shared/redis/connection.js";
import { keyPrefix, openQueue } from "../shared/redis/queues.js";
import { ProgressView, printDryRun, printSummary } from "./campaign-view.js";
import { integerOption } from "./options.js";

interface CampaignOptions {
  comment: string;
  idsFile?: string;
  filter?: string;
  max: string;
  yes?: boolean;
  retryFailed?: string;
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
    .option("--name <s>", "campaign id (default: generated)")
    .option(
      "--priority <n>",
      `BullMQ priority 1..${MAX_PRIORITY} (default ${DEFAULT_CAMPAIGN_PRIORITY}: behind every urgent cancel)`,
    )
    .option("--dry-run", "resolve and report what would be enqueued; enqueue nothing")
    .option("--wait", "show progress until every action has its outcome; exit 1 if any failed")
    .option("--json", "print JSON instead of text")
    .action((opts: CampaignOptions) => runCampaign(parseConfig(readEnvironment(env, process.cwd())), opts));
}

async function runCampaign(config: Config, opts: CampaignOptions): Promise<void> {
  const sources = [opts.idsFile, opts.filter, opts.retryFailed].filter((s) => s !== undefined);
  if (sources.length !== 1)
    throw new UsageError("Give exactly one of --ids-file, --filter or --retry-failed.");
  const max = integerOption("--max", opts.max, 1);
  const priority =
    opts.priority === undefined ? undefined : integerOption("--priority", opts.priority, 1, MAX_PRIORITY);
  if (!config.tenantId)
    throw new UsageError("A campaign needs AZURE_TENANT_ID, the tenant its actions belong to.");
  const tenantId = config.tenantId;
  const print = (text: string) => process.stdout.write(`${text}\n`);

  const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
  const store = new CampaignStore(redis, keyPrefix(config), config.resultRetentionMs);
  const queue = openQueue(config.cancelQueue, redis, config);
  try {
    let ids: string[];
    let source: string;
    let preview: MachineAction[] | undefined;
    if (opts.idsFile !== undefined) {
      const parsed = parseIds(readIdsFile(opts.idsFile));
      if (parsed.problems.length > 0)
        throw new UsageError(
          `${opts.idsFile} has lines that are not machine action GUIDs: ${describeProblems(parsed.problems)}. Nothing was enqueued.`,
        );
      ids = parsed.ids;
      source = `ids-file ${opts.idsFile === "-" ? "(stdin)" : opts.idsFile}`;
    } else if (opts.filter !== undefined) {
      const session = createDefenderSession(
        config,
        requireWorkerCredentials(config),
        redis,
        createLogger("silent"),
      );
      preview = await resolveFilter(session.client, tenantId, opts.filter, { max });
      ids = cancellable(preview);
      source = `filter ${opts.filter}`;
    } else {
      const campaignId = opts.retryFailed as string;
      if (!(await store.get(campaignId))) throw new UsageError(`No campaign ${campaignId} is kept in Redis.`);
      ids = await store.failedActions(campaignId);
      opts.name = campaignId;
      source = `retry-failed ${campaignId}`;
    }

    if (opts.dryRun) {
      let looked = preview;
      let lookedUp = ids.length;
      if (!looked && config.clientId && (config.clientSecret || config.clientCertificatePath)) {
        const session = createDefenderSession(
          config,
          requireWorkerCredentials(config),
          redis,
          createLogger("silent"),
        );
        lookedUp = Math.min(ids.length, DRY_RUN_LOOKUP);
        looked = await lookupActions(session.client, tenantId, ids.slice(0, DRY_RUN_LOOKUP));
      }
      printDryRun(process.stdout, { source, ids, looked, lookedUp, json: Boolean(opts.json) });
      return;
    }
    if (opts.filter !== undefined && process.stdin.isTTY && !opts.yes && !(await confirm(ids.length))) {
      print("Nothing was enqueued.");
      return;
    }

    const request: CampaignRequest = {
      ids,
      comment: opts.comment,
      tenantId,
      campaignId: opts.name,
      replay: opts.retryFailed !== undefined,
      source,
      priority,
      resultRetentionMs: config.resultRetentionMs,
    };
    await clearStaleTickets(queue, createLimiter(config, redis), tenantId);
    const started = await startCampaign(queue, store, request);
    if (!opts.wait) {
      if (opts.json) print(JSON.stringify(started));
      else {
        print(`Campaign ${started.campaignId}: ${started.added} job(s) enqueued.`);
        if (started.alreadyQueued.length > 0)
          print(`${started.alreadyQueued.length} action(s) already had a job in flight and were left to it.`);
      }
      return;
    }
    await waitAndReport(store, config, started.campaignId, Boolean(opts.json));
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

async function waitAndReport(
  store: CampaignStore,
  config: Config,
  campaignId: string,
  json: boolean,
): Promise<void> {
  const view = new ProgressView(process.stderr, Boolean(process.stderr.isTTY) && !json);
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once("SIGINT", onSigint);
  try {
    const record = await waitForCampaign(store, campaignId, {
      budgetPerMs: budgetJobsPerMs(config.rateLimits, config.campaignBudgetShare),
      signal: stop.signal,
      onSample: (sample) => view.update(sample),
    });
    view.stop();
    if (!record) {
      process.stderr.write(`Stopped waiting; campaign ${campaignId} goes on (mde-cancel status shows it).\n`);
      process.exitCode = 130;
      return;
    }
    const failedIds = record.counts.failed > 0 ? await store.failedActions(campaignId) : [];
    printSummary(process.stdout, record, failedIds, json);
    process.exitCode = record.counts.failed > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", onSigint);
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
