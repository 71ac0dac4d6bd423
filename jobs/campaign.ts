import { randomBytes } from "node:crypto";
import type { Queue } from "bullmq";
import { isTerminal, type MachineAction } from "../shared/contract/cancel-result.js";
import { isGuid } from "../shared/contract/guid.js";
import { commentProblem, MAX_PRIORITY, validPriority } from "../shared/contract/limits.js";
import { errorMessage, isWaitError, OperationalError, UsageError } from "../shared/core/errors.js";
import { sleep } from "../shared/core/sleep.js";
import type { ActionPage, DefenderClient } from "../shared/defender/defender-client.js";
import { ENDPOINTS } from "../shared/defender/endpoints.js";
import { type AuditSink, auditSlice } from "../shared/redis/audit-log.js";
import type { CallbackStore } from "../shared/redis/callback-store.js";
import type { CampaignStore } from "../shared/redis/campaign-store.js";
import type { RateLimiter } from "../shared/redis/rate-limiter.js";
import { redisFailure } from "../shared/redis/redis-failure.js";
import { addCampaignJobs } from "./campaign-jobs.js";
import type { CampaignPace } from "./campaign-pace.js";

/** Campaign jobs wait behind every job without a priority (a playbook's urgent cancel). */
export const DEFAULT_CAMPAIGN_PRIORITY = 1000;
const CHUNK = 1000;

export interface CampaignRequest {
  ids: string[];
  comment: string;
  tenantId: string;
  /** The campaign id: `--name`, or generated. An existing id is only accepted for a replay. */
  campaignId?: string;
  replay?: boolean;
  source: string;
  priority?: number;
  requestedBy?: string;
  resultRetentionMs: number;
}

export interface CampaignStart {
  campaignId: string;
  /** Jobs added. */
  added: number;
  /** Actions that already had a job waiting, delayed or running elsewhere: not part of this campaign. */
  alreadyQueued: string[];
}

/** What a campaign may carry besides its jobs; none by default. */
export interface CampaignExtras {
  /** Records the campaign's requests: one record per slice of up to 1,000 actions. */
  audit?: AuditSink;
  /** Records `campaign.finished` of a campaign whose jobs all finished before the last was added. */
  callbacks?: Pick<CallbackStore, "recordCampaign">;
  /** Adds each job delayed to when its tenant's campaign budget allows it (campaign-pace.ts). */
  pace?: CampaignPace;
}

export function newCampaignId(now = new Date()): string {
  return `c-${now.toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
}

/** A campaign id (`--name`, or the HTTP `name`): it becomes part of Redis keys and URLs. */
export const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function validateCampaignId(id: string): string {
  if (!CAMPAIGN_ID_PATTERN.test(id))
    throw new UsageError(`--name ${JSON.stringify(id)} must be 1-100 letters, digits, '.', '_' or '-'.`);
  return id;
}

/**
 * Refuses a campaign whose comment, priority or id is invalid, naming each: called before its
 * source is resolved, so a bad comment spends no list budget and needs no Redis.
 */
export function checkCampaign(req: { comment: string; priority?: number; campaignId?: string }): void {
  const problems = [
    req.priority === undefined || validPriority(req.priority)
      ? undefined
      : `--priority ${req.priority} must be a whole number from 1 to ${MAX_PRIORITY}`,
    commentProblem(req.comment) && `--comment ${commentProblem(req.comment)}`,
    req.campaignId === undefined || CAMPAIGN_ID_PATTERN.test(req.campaignId)
      ? undefined
      : `--name ${JSON.stringify(req.campaignId)} must be 1-100 letters, digits, '.', '_' or '-'`,
  ].filter((p) => p !== undefined);
  if (problems.length > 0) throw new UsageError(`${problems.join("; ")}.`);
}

/**
 * Records the campaign, then adds its jobs in bulk (1,000 per round trip). Each action is counted
 * into the campaign before its job exists, so no result can arrive for an action it does not know;
 * a chunk that fails takes back the actions that got no job, so the total counts only jobs that
 * exist. A start that failed part-way keeps its id: the same start run again adds the rest.
 */
export async function startCampaign(
  queue: Queue,
  store: CampaignStore,
  req: CampaignRequest,
  extras: CampaignExtras = {},
): Promise<CampaignStart> {
  checkCampaign(req);
  const priority = req.priority ?? DEFAULT_CAMPAIGN_PRIORITY;
  const bad = req.ids.filter((id) => !isGuid(id));
  if (bad.length > 0) throw new UsageError(`Nothing was enqueued: ${bad.slice(0, 5).join(", ")} not GUIDs.`);
  const campaignId = validateCampaignId(req.campaignId ?? newCampaignId());
  const fields = { comment: req.comment, source: req.source, priority, tenantId: req.tenantId };
  const created = await store.create(campaignId, fields);
  // A start that failed part-way left its campaign unsealed: the same start may add the rest.
  const resumed = !created && !req.replay && (await store.adding(campaignId));
  if (!created && !req.replay && !resumed)
    throw new UsageError(
      `Campaign ${campaignId} already exists; choose another --name, or use --retry-failed.`,
    );

  let added = 0;
  const alreadyQueued: string[] = [];
  try {
    for (let i = 0; i < req.ids.length; i += CHUNK) {
      let ids = req.ids.slice(i, i + CHUNK).map((id) => id.toLowerCase());
      // Running again: actions that finished since are not cancelled twice.
      if (resumed) {
        const outcomes = await store.outcomesOf(campaignId, ids);
        ids = ids.filter((_, k) => !outcomes[k]);
      }
      const delays = await extras.pace?.delays(ids.length);
      const chunk = await addCampaignJobs(queue, store, { ...req, campaignId, priority }, ids, delays);
      await extras.pace?.giveBack(ids.length - chunk.added);
      added += chunk.added;
      alreadyQueued.push(...chunk.alreadyQueued);
      const request = { requestedBy: req.requestedBy, tenantId: req.tenantId, campaignId };
      await auditSlice(extras.audit, request, ids, chunk.alreadyQueued);
    }
  } catch (err) {
    throw new OperationalError(
      `Campaign ${campaignId} stopped part-way with ${added} job(s) added: ${errorMessage(redisFailure(err))} Run the same command with --name ${campaignId} to add the rest.`,
    );
  }
  // Only now can the campaign finish; its jobs may all have finished already.
  const finished = await store.seal(campaignId);
  if (finished) await extras.callbacks?.recordCampaign(finished);
  return { campaignId, added, alreadyQueued };
}

/**
 * Forgets the limiter's wake-up tickets when no job waits for budget any more: tickets assume
 * every refused job comes back, so after a campaign was drained or removed by hand they would
 * hold the next campaign's refused jobs back for hours while the budget sits idle.
 */
export async function clearStaleTickets(
  queue: Queue,
  limiter: Pick<RateLimiter, "resetTickets">,
  tenantId: string,
): Promise<boolean> {
  const counts = await queue.getJobCounts("waiting", "prioritized", "delayed", "active");
  if (Object.values(counts).some((n) => n > 0)) return false;
  await Promise.all(ENDPOINTS.map((endpoint) => limiter.resetTickets(tenantId, endpoint)));
  return true;
}

/**
 * Every action matching an OData `$filter`, following `@odata.nextLink`, through the shared
 * limiter (the list endpoint's budget). Stops with a UsageError past `max` matches.
 */
export async function resolveFilter(
  client: Pick<DefenderClient, "listActions">,
  tenantId: string,
  filter: string,
  options: { max: number; pageSize?: number; onWait?: (ms: number) => void },
): Promise<MachineAction[]> {
  const actions: MachineAction[] = [];
  let nextLink: string | undefined;
  do {
    let page: ActionPage;
    try {
      page = await client.listActions(
        tenantId,
        { filter, top: options.pageSize, nextLink },
        { campaign: true },
      );
    } catch (err) {
      if (!isWaitError(err)) throw err;
      options.onWait?.(err.waitMs);
      await sleep(err.waitMs);
      continue;
    }
    actions.push(...page.actions);
    if (cancellable(actions).length > options.max)
      throw new UsageError(
        `The filter matches more than --max ${options.max} actions that can be cancelled; narrow it, or raise --max if you mean it. Nothing was enqueued.`,
      );
    nextLink = page.nextLink;
  } while (nextLink);
  return actions;
}

/** How many ids of a file a dry run looks up: 10 list calls of the budget, not one per id. */
export const DRY_RUN_LOOKUP = 500;
const LOOKUP_BATCH = 50;

/**
 * The current state of the given actions, through `$filter=id in (...)` in batches of 50 (the
 * list endpoint's budget); ids Defender does not know are simply absent from the answer.
 */
export async function lookupActions(
  client: Pick<DefenderClient, "listActions">,
  tenantId: string,
  ids: string[],
): Promise<MachineAction[]> {
  const found: MachineAction[] = [];
  for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
    // Ids are validated GUIDs: nothing here can break out of the quotes.
    const filter = `id in (${ids
      .slice(i, i + LOOKUP_BATCH)
      .map((id) => `'${id}'`)
      .join(",")})`;
    found.push(...(await resolveFilter(client, tenantId, filter, { max: Number.MAX_SAFE_INTEGER })));
  }
  return found;
}

/** What a dry run or a confirmation shows: counts by status and by type. */
export function summarize(actions: MachineAction[]): {
  byStatus: Record<string, number>;
  byType: Record<string, number>;
} {
  const byStatus: Record<string, number> = {};
  const byType: Record<string, number> = {};
  for (const a of actions) {
    byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    const type = String(a.type ?? "unknown");
    byType[type] = (byType[type] ?? 0) + 1;
  }
  return { byStatus, byType };
}

/**
 * A dry run's counts: by status and type of the actions looked up, ids Defender did not list
 * counted as "(not found)" (a filter lists only what exists). Undefined when nothing was looked up.
 */
export function dryRunSummary(run: {
  source: string;
  looked?: MachineAction[];
  lookedUp: number;
}): ReturnType<typeof summarize> | undefined {
  if (!run.looked) return undefined;
  const summary = summarize(run.looked);
  const unknown = run.source.startsWith("filter") ? 0 : run.lookedUp - run.looked.length;
  if (unknown > 0) summary.byStatus["(not found)"] = unknown;
  return summary;
}

export function cancellable(actions: MachineAction[]): string[] {
  return actions.filter((a) => !isTerminal(a.status)).map((a) => a.id.toLowerCase());
}
