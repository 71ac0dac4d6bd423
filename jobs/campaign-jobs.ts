import type { Job, Queue } from "bullmq";
import type { SeenStatus } from "../shared/contract/seen-status.js";
import type { CampaignStore } from "../shared/redis/campaign-store.js";
import { CANCEL_JOB_NAME, deduplicationId, newJobId } from "../shared/redis/queues.js";

/**
 * The job each action has in flight (waiting, delayed or active: BullMQ's deduplication key points
 * at it until it finishes), for the actions whose job belongs to `campaignId`. What a campaign
 * start asks of an action a job already holds, and what an abort finds to stop.
 */
export async function campaignJobs(
  queue: Queue,
  campaignId: string,
  tenantId: string,
  actionIds: readonly string[],
): Promise<Map<string, Job>> {
  const jobIds = await Promise.all(
    actionIds.map((actionId) => queue.getDeduplicationJobId(deduplicationId(tenantId, actionId))),
  );
  const jobs = await Promise.all(jobIds.map((id) => (id ? queue.getJob(id) : undefined)));
  const found = new Map<string, Job>();
  jobs.forEach((job, i) => {
    if (job?.data?.campaignId === campaignId) found.set(actionIds[i] as string, job);
  });
  return found;
}

/** What every job of one campaign carries. */
export interface CampaignJobs {
  campaignId: string;
  tenantId: string;
  comment: string;
  priority: number;
  requestedBy?: string;
}

/**
 * Counts the actions into the campaign, then adds their jobs in one round trip, each with what the
 * campaign saw of its action (`seen`, when it looked). An action already
 * held by another job is left to it, outside the campaign, unless that job is the campaign's own
 * (the same start running again). When adding fails, the actions that got no job are taken back
 * out of the campaign (Redis may have added some before the reply was lost), then the error goes on.
 */
export async function addCampaignJobs(
  queue: Queue,
  store: CampaignStore,
  campaign: CampaignJobs,
  actionIds: string[],
  seen: ReadonlyMap<string, SeenStatus> = new Map(),
  /** Each job's delay (ms) when the campaign paces its enqueue (campaign-pace.ts); none by default. */
  delays: readonly number[] = [],
): Promise<{ added: number; alreadyQueued: string[] }> {
  const { campaignId, tenantId } = campaign;
  const planned = actionIds.map((machineActionId, k) => ({
    name: CANCEL_JOB_NAME,
    // No comment: the campaign's record holds it once, the worker reads it there (withCampaignComment).
    data: {
      machineActionId,
      tenantId,
      campaignId,
      ...(campaign.requestedBy ? { requestedBy: campaign.requestedBy } : {}),
      ...(seen.has(machineActionId) ? { seen: seen.get(machineActionId) } : {}),
    },
    opts: {
      jobId: newJobId(),
      deduplication: { id: deduplicationId(tenantId, machineActionId) },
      priority: campaign.priority,
      ...((delays[k] ?? 0) > 0 ? { delay: delays[k] } : {}),
    },
  }));
  let jobs: Job[];
  try {
    await store.addActions(campaignId, actionIds);
    jobs = await queue.addBulk(planned);
  } catch (err) {
    const held = await campaignJobs(queue, campaignId, tenantId, actionIds).catch(() => undefined);
    const orphans = actionIds.filter((a) => !held?.has(a));
    if (held) await store.removeActions(campaignId, orphans).catch(() => undefined);
    throw err;
  }
  const skipped = planned.filter((p, k) => jobs[k]?.id !== p.opts.jobId).map((p) => p.data.machineActionId);
  const ours = skipped.length > 0 ? await campaignJobs(queue, campaignId, tenantId, skipped) : new Map();
  const others = skipped.filter((a) => !ours.has(a));
  await store.removeActions(campaignId, others);
  return { added: planned.length - skipped.length, alreadyQueued: others };
}
