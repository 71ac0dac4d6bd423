import { randomUUID } from "node:crypto";
import type { Job, Queue } from "bullmq";
import type { Config } from "../shared/config/config.js";
import { parseCancelJob, withCampaignComment } from "../shared/contract/cancel-job.js";
import { type CancelResult, failedResult } from "../shared/contract/cancel-result.js";
import { UsageError } from "../shared/core/errors.js";
import type { CampaignStore } from "../shared/redis/campaign-store.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { JobTakeover } from "../shared/redis/job-takeover.js";
import { ResultTargets } from "../shared/redis/publish-result.js";
import { retentionOptions } from "../shared/redis/queues.js";
import { campaignJobs } from "./campaign-jobs.js";

/**
 * How long an abort holds the jobs it took before it finishes them; should it die meanwhile, a
 * worker finishes them after this with the `aborted` result they carry, never calling Defender.
 */
export const ABORT_LOCK_MS = 60_000;

export interface AbortDeps {
  queue: Queue;
  store: CampaignStore;
  redis: RedisConnection;
  /** Where results go (as the worker publishes them), and AZURE_TENANT_ID for old records. */
  config: ConstructorParameters<typeof ResultTargets>[1] & Pick<Config, "tenantId">;
}

/**
 * Finishes in place every job of the campaign that waits (waiting, prioritized or delayed) and has
 * sent no cancel: each completes with its result, `failed` with code `aborted`, published like any
 * other, and its action is free for a new enqueue (BullMQ drops the deduplication key when a job
 * finishes). Jobs a worker holds, that sent their cancel, or that an urgent enqueue promoted (a
 * playbook awaits that cancel) are left to finish. Returns how many
 * were aborted; a campaign not kept in Redis is a UsageError.
 */
export async function abortCampaign(deps: AbortDeps, campaignId: string): Promise<number> {
  const record = await deps.store.get(campaignId);
  if (!record)
    throw new UsageError(
      `No campaign ${campaignId} is kept in Redis (mde-cancel status lists those in progress).`,
    );
  const tenantId = record.tenantId ?? deps.config.tenantId;
  if (!tenantId)
    throw new UsageError(`Campaign ${campaignId} names no tenant; set AZURE_TENANT_ID to its tenant.`);
  const takeover = new JobTakeover(deps.redis);
  const targets = new ResultTargets(deps.redis, deps.config);
  const publish = (result: CancelResult) => targets.publish(result);
  const keep = retentionOptions(deps.config);
  let aborted = 0;
  let cursor = "0";
  try {
    do {
      const page = await deps.store.waitingActions(campaignId, cursor);
      const jobs = await campaignJobs(deps.queue, campaignId, tenantId, page.actionIds);
      aborted += await abortJobs({ queue: deps.queue, takeover, publish, keep }, record, tenantId, [
        ...jobs.values(),
      ]);
      cursor = page.next;
    } while (cursor !== "0");
  } finally {
    await targets.close();
  }
  return aborted;
}

async function abortJobs(
  deps: {
    queue: Queue;
    takeover: JobTakeover;
    publish: (result: CancelResult) => Promise<void>;
    keep: ReturnType<typeof retentionOptions>;
  },
  campaign: { id: string; comment: string },
  tenantId: string,
  jobs: Job[],
) {
  const lock = { token: randomUUID(), ms: ABORT_LOCK_MS };
  const results = new Map(jobs.map((job) => [String(job.id), abortedResult(job, campaign, tenantId)]));
  // The worker's JobState (it needs `failures`) with the decided result: republished, never acted on.
  const taken = await deps.takeover.takeWaiting(
    deps.queue,
    jobs.map((job) => ({
      id: String(job.id),
      progress: { failures: 0, ...progressOf(job), result: results.get(String(job.id)) },
    })),
    lock,
  );
  await Promise.all(
    taken.map(async (id) => {
      const result = results.get(id) as CancelResult;
      const job = jobs.find((j) => String(j.id) === id) as Job;
      await deps.publish(result);
      // Jobs leave their retention to the worker's options (queues.ts); finished here, it is given.
      job.opts = { ...job.opts, ...deps.keep };
      await job.moveToCompleted(result, lock.token, false);
    }),
  );
  return taken.length;
}

function abortedResult(job: Job, campaign: { id: string; comment: string }, tenantId: string): CancelResult {
  // A campaign's job leaves its comment to the record; its result carries it.
  const data = withCampaignComment(job.data, campaign.comment);
  const parsed = parseCancelJob(data);
  const valid = parsed.ok ? { ...parsed.job, tenantId: parsed.job.tenantId ?? tenantId } : undefined;
  const ref = { jobId: String(job.id), data, enqueuedAt: job.timestamp };
  const message = `campaign ${campaign.id} was aborted before this job sent its cancel; Defender was not called for it again`;
  return failedResult(ref, progressOf(job).failures ?? 0, { code: "aborted", message }, valid);
}

/** The worker's state on the job (BullMQ's progress), or a fresh one. */
function progressOf(job: Job): { failures?: number } & Record<string, unknown> {
  return job.progress && typeof job.progress === "object" ? (job.progress as Record<string, unknown>) : {};
}
