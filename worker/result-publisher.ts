import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../shared/config.js";
import type { CancelResult } from "../shared/contract.js";
import { openQueue, RESULT_JOB_NAME, resultJobId, retentionOptions } from "../shared/queues.js";

/**
 * Publishes each result as a `result` job on every RESULTS_QUEUE. The job id is the cancel job's,
 * so a second publication of the same result (after a crash) adds nothing while the first exists.
 */
export class ResultPublisher {
  private readonly queues: Queue[];

  constructor(
    connection: Redis,
    private readonly config: Pick<Config, "resultsQueues" | "queuePrefix" | "resultRetentionMs">,
  ) {
    this.queues = config.resultsQueues.map((name) => openQueue(name, connection, config));
  }

  async publish(result: CancelResult): Promise<void> {
    const options = { jobId: resultJobId(result.jobId), ...retentionOptions(this.config) };
    await Promise.all(this.queues.map((queue) => queue.add(RESULT_JOB_NAME, result, options)));
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}
