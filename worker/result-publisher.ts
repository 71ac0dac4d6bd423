import type { Queue } from "bullmq";
import pRetry from "p-retry";
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
import { PublishFollowUp } from "./publish-follow-up.js";

/** Four more tries, 0.5 s, 1 s, 2 s and 4 s apart: a failover or a full Redis gets 7.5 s to pass. */
const PUBLISH_RETRY = { retries: 4, minTimeout: 500, factor: 2, maxTimeout: 4_000 };

/**
 * Publishes each result everywhere it is read from: a `result` job on every RESULTS_QUEUE, and the
 * campaign's record when the job belongs to one. The result job's id is the cancel job's and the
 * campaign counts each job once, so publishing the same result twice (after a crash) adds nothing.
 */
export class ResultPublisher {
  private readonly queues: Queue[];
  private readonly campaigns: CampaignStore;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly followUp: PublishFollowUp;

  constructor(
    connection: RedisConnection,
    private readonly config: Pick<
      Config,
      "resultsQueues" | "queuePrefix" | "cancelQueue" | "resultRetentionMs" | "auditRetentionMs"
    >,
  ) {
    this.queues = config.resultsQueues.map((name) => openQueue(name, connection, config));
    this.campaigns = new CampaignStore(connection, keyPrefix(config), config.resultRetentionMs);
    this.followUp = new PublishFollowUp(connection, config);
  }

  /**
   * Publishes `result`, trying again with backoff when Redis refuses (out of memory, a failover
   * under way): a job's result is its last word. `close()` waits for every publish in flight.
   */
  publish(result: CancelResult): Promise<void> {
    const publishing = pRetry(() => this.publishOnce(result), PUBLISH_RETRY);
    this.inFlight.add(publishing);
    const forget = () => this.inFlight.delete(publishing);
    publishing.then(forget, forget);
    return publishing;
  }

  private async publishOnce(result: CancelResult): Promise<void> {
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

  /** Waits for the publishes in flight (each ends, published or given up), then closes the queues. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.queues.map((queue) => queue.close()), this.followUp.close()]);
  }
}
