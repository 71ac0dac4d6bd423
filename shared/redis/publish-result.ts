import type { Queue } from "bullmq";
import type { Config } from "../config/config.js";
import type { CancelResult } from "../contract/cancel-result.js";
import type { CampaignStore } from "./campaign-store.js";
import { RESULT_JOB_NAME, resultJobId, retentionOptions } from "./queues.js";

/** Where results are read from: a queue per RESULTS_QUEUE entry, and the campaign records. */
export interface ResultTargets {
  queues: readonly Queue[];
  campaigns: CampaignStore;
  config: Pick<Config, "resultRetentionMs">;
}

/**
 * Publishes a result everywhere it is read from: a `result` job on every RESULTS_QUEUE, and the
 * campaign's record when the job belongs to one. The result job's id is the cancel job's and the
 * campaign counts each job once, so publishing the same result twice (after a crash) adds nothing.
 * The worker publishes every result it decides; a producer the ones it decides (an abort).
 */
export async function publishResult(result: CancelResult, targets: ResultTargets): Promise<void> {
  const options = {
    jobId: resultJobId(result.jobId),
    // A subscriber whose handler throws gets the result again, backing off for about an hour in all.
    attempts: 12,
    backoff: { type: "exponential", delay: 1_000 },
    ...retentionOptions(targets.config),
  };
  await Promise.all([
    ...targets.queues.map((queue) => queue.add(RESULT_JOB_NAME, result, options)),
    targets.campaigns.record(result),
  ]);
}
