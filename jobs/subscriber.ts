import { Worker } from "bullmq";
import type { Config } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { UsageError } from "../shared/core/errors.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { retentionOptions } from "../shared/redis/queues.js";

export interface SubscribeOptions {
  connection: RedisConnection;
  config: Pick<Config, "queuePrefix" | "resultRetentionMs" | "resultsQueues">;
  /** The results queue of this service (one of RESULTS_QUEUE); default the first. */
  queue?: string;
  concurrency?: number;
}

export interface Subscription {
  /** Finishes the results in hand, then stops. */
  close(): Promise<void>;
}

/**
 * Calls `handler` once per result on one results queue. Delivery is at least once underneath
 * (a crash mid-handler redelivers), so each jobId is remembered for RESULT_RETENTION after the
 * handler succeeded and a repeat is skipped; a handler that throws gets the result again later
 * (the worker publishes results with 12 attempts and exponential backoff).
 */
export async function subscribeResults(
  handler: (result: CancelResult) => Promise<void> | void,
  options: SubscribeOptions,
): Promise<Subscription> {
  const { config, connection } = options;
  const queue = options.queue ?? config.resultsQueues[0];
  if (!queue)
    throw new UsageError("RESULTS_QUEUE is empty: there is no results queue to subscribe to; set it.");
  const seenKey = (jobId: string) => `${config.queuePrefix}:${queue}:seen:${jobId}`;
  const worker = new Worker<CancelResult>(
    queue,
    async (job) => {
      const result = job.data;
      if (await connection.exists(seenKey(result.jobId))) return;
      await handler(result);
      await connection.set(seenKey(result.jobId), "1", "PX", config.resultRetentionMs);
    },
    {
      connection,
      prefix: config.queuePrefix,
      concurrency: options.concurrency ?? 10,
      ...retentionOptions(config),
    },
  );
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
