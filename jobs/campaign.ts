import { randomBytes } from "node:crypto";
import type { Queue } from "bullmq";
import { isTerminal } from "../shared/contract/cancel-result.js";
import { isGuid } from "../shared/contract/guid.js";
import { commentProblem, MAX_PRIORITY, validPriority } from "../shared/contract/limits.js";
import type { SeenStatus } from "../shared/contract/seen-status.js";
import { errorMessage, OperationalError, UsageError } from "../shared/core/errors.js";
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
  /**
   * What the campaign sees of a chunk's actions just before adding their jobs (lookUpSeen, or a
   * filter's answer); the jobs carry it, so a worker skips what is settled. Default: nothing.
   */
  look?: (ids: string[]) => Promise<ReadonlyMap<string, SeenStatus>>;
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
 * Records the campaign, then adds its jobs in bulk (1,000 per round trip), each chunk just after
 * `extras.look` saw its actions (the jobs carry what it saw). Each action is counted
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
      const seen = await extras.look?.(ids);
      // Only jobs that will call Defender take paced slots: one seen terminal finishes at once, free.
      const calling = ids.filter((id) => !isTerminal(seen?.get(id)?.status ?? ""));
      const slots = (await extras.pace?.delays(calling.length)) ?? [];
      const slotOf = new Map(calling.map((id, k) => [id, slots[k] ?? 0]));
      const delays = ids.map((id) => slotOf.get(id) ?? 0);
      const campaign = { ...req, campaignId, priority };
      const chunk = await addCampaignJobs(queue, store, campaign, ids, seen, delays);
      await extras.pace?.giveBack(Math.min(calling.length, ids.length - chunk.added));
      // The ETA counts no call for these (their jobs may not have finished yet).
      if (calling.length < ids.length) await store.noteSeenTerminal(campaignId, ids.length - calling.length);
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
