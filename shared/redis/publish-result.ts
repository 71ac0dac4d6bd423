import type { Queue } from "bullmq";
import type { Config } from "../config/config.js";
import type { CancelResult } from "../contract/cancel-result.js";
import { CampaignStore } from "./campaign-store.js";
import type { RedisConnection } from "./connection.js";
import { PublishFollowUp } from "./publish-follow-up.js";
import { keyPrefix, openQueue, RESULT_JOB_NAME, resultJobId, retentionOptions } from "./queues.js";

/**
 * Everywhere a result is read from: a `result` job on every RESULTS_QUEUE, the campaign's record
 * when the job belongs to one, then what follows (callbacks, the audit's outcome). The result job's
 * id is the cancel job's and the campaign counts each job once, so publishing the same result twice
 * (after a crash) adds nothing. The worker publishes each result it decides through it (with
 * retries: ResultPublisher); a producer the ones it decides itself (an abort).
 */
export class ResultTargets {
  private readonly queues: Queue[];
  private readonly campaigns: CampaignStore;
  private readonly followUp: PublishFollowUp;

  constructor(
    connection: RedisConnection,
    private readonly config: Pick<
      Config,
      "resultsQueues" | "queuePrefix" | "cancelQueue" | "resultRetentionMs" | "auditRetentionMs"
    >,
  ) {
    this.queues = config.resultsQueues.map((name) => {
      const queue = openQueue(name, connection, config);
      queue.on("error", () => undefined); // surfaces through the failing add; BullMQ would print a stack
      return queue;
    });
    this.campaigns = new CampaignStore(connection, keyPrefix(config), config.resultRetentionMs);
    this.followUp = new PublishFollowUp(connection, config);
  }

  /** Publishes `result` once; the caller decides whether to try again. */
  async publish(result: CancelResult): Promise<void> {
    const options = {
      jobId: resultJobId(result.jobId),
      // A subscriber whose handler throws gets the result again, backing off for about an hour in all.
      attempts: 12,
      backoff: { type: "exponential", delay: 1_000 },
      ...retentionOptions(this.config),
    };
    const [, campaign] = await Promise.all([
      Promise.all(this.queues.map((queue) => queue.add(RESULT_JOB_NAME, result, options))),
      this.campaigns.record(result),
    ]);
    // Callbacks and audit, once the result is out; safe to repeat like everything above.
    await this.followUp.after(result, campaign);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.map((queue) => queue.close()), this.followUp.close()]);
  }
}
