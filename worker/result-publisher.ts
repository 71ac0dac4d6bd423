import pRetry from "p-retry";
import type { Config } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { ResultTargets } from "../shared/redis/publish-result.js";

/** Four more tries, 0.5 s, 1 s, 2 s and 4 s apart: a failover or a full Redis gets 7.5 s to pass. */
const PUBLISH_RETRY = { retries: 4, minTimeout: 500, factor: 2, maxTimeout: 4_000 };

/**
 * Publishes each result the worker decides everywhere it is read from (ResultTargets: every
 * RESULTS_QUEUE, the campaign's record, callbacks and audit), over queues it opens once.
 */
export class ResultPublisher {
  private readonly targets: ResultTargets;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    connection: RedisConnection,
    config: Pick<
      Config,
      "resultsQueues" | "queuePrefix" | "cancelQueue" | "resultRetentionMs" | "auditRetentionMs"
    >,
  ) {
    this.targets = new ResultTargets(connection, config);
  }

  /**
   * Publishes `result`, trying again with backoff when Redis refuses (out of memory, a failover
   * under way): a job's result is its last word. `close()` waits for every publish in flight.
   */
  publish(result: CancelResult): Promise<void> {
    const publishing = pRetry(() => this.targets.publish(result), PUBLISH_RETRY);
    this.inFlight.add(publishing);
    const forget = () => this.inFlight.delete(publishing);
    publishing.then(forget, forget);
    return publishing;
  }

  /** Waits for the publishes in flight (each ends, published or given up), then closes the queues. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.targets.close();
  }
}
