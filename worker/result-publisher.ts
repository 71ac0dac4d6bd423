import pRetry from "p-retry";
import type { Config } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { sleep } from "../shared/core/sleep.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { ResultTargets } from "../shared/redis/publish-result.js";

/**
 * After a refused first try, four more, 0.5 s, 1 s, 2 s and 4 s apart: a failover or a full Redis
 * gets 7.5 s to pass. (p-retry counts the try it starts with: the first of these goes at once.)
 */
const FIRST_RETRY_MS = 500;
const PUBLISH_RETRY = { retries: 3, minTimeout: 1_000, factor: 2, maxTimeout: 4_000 };

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
    const once = () => this.targets.publish(result);
    // Nearly every publish succeeds at once; p-retry's machinery (a measurable share of a job's CPU)
    // is set up only after a refusal.
    const publishing = once().catch(() => sleep(FIRST_RETRY_MS).then(() => pRetry(once, PUBLISH_RETRY)));
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
