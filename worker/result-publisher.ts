import type { Queue } from "bullmq";
import type { Config } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import {
  keyPrefix,
  openQueue,
  RESULT_JOB_NAME,
  resultJobId,
  retentionOptions,
} from "../shared/redis/queues.js";

/**
 * Publishes each result everywhere it is read from: a `result` job on every RESULTS_QUEUE, and the
 * campaign's record when the job belongs to one. The result job's id is the cancel job's and the
 * campaign counts each job once, so publishing the same result twice (after a crash) adds nothing.
 */
export class ResultPublisher {
  private readonly queues: Queue[];
  private readonly campaigns: CampaignStore;

  constructor(
    connection: RedisConnection,
    private readonly config: Pick<
      Config,
      "resultsQueues" | "queuePrefix" | "cancelQueue" | "resultRetentionMs"
    >,
  ) {
    this.queues = config.resultsQueues.map((name) => openQueue(name, connection, config));
    this.campaigns = new CampaignStore(connection, keyPrefix(config), config.resultRetentionMs);
  }

  async publish(result: CancelResult): Promise<void> {
    const options = {
      jobId: resultJobId(result.jobId),
      // A subscriber whose handler throws gets the result again, backing off for about an hour in all.
      attempts: 12,
      backoff: { type: "exponential", delay: 1_000 },
      ...retentionOptions(this.config),
    };
    await Promise.all([
      ...this.queues.map((queue) => queue.add(RESULT_JOB_NAME, result, options)),
      this.campaigns.record(result),
    ]);
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}
