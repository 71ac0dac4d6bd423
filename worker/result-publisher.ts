import type { Queue } from "bullmq";
import type { Config } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { publishResult } from "../shared/redis/publish-result.js";
import { keyPrefix, openQueue } from "../shared/redis/queues.js";

/**
 * Publishes each result everywhere it is read from (publishResult: every RESULTS_QUEUE and the
 * campaign's record), over the queues it opens once for the worker's life.
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
    await publishResult(result, { queues: this.queues, campaigns: this.campaigns, config: this.config });
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}
