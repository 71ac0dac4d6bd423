/**
 * Tiers (a) and (b) of the throughput bench: a bare BullMQ worker whose processor does nothing,
 * and (with BENCH_PUBLISH=1) the same worker publishing each result through the product's
 * ResultPublisher. Same connection, prefix, retention and concurrency as the real worker.
 */
import { Worker } from "bullmq";
import { parseConfig } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { connectRedis } from "../shared/redis/connection.js";
import { ResultPublisher } from "../worker/result-publisher.js";

const config = parseConfig(process.env);
const publish = process.env.BENCH_PUBLISH === "1";
const connection = await connectRedis(config.redisUrl, { blocking: true });
const publisher = new ResultPublisher(connection, config);
const age = Math.ceil(config.resultRetentionMs / 1000);

const worker = new Worker(
  config.cancelQueue,
  async (job) => {
    const data = job.data as { machineActionId: string; comment: string; tenantId: string };
    const result: CancelResult = {
      jobId: String(job.id),
      machineActionId: data.machineActionId,
      tenantId: data.tenantId,
      outcome: "cancelled",
      status: "Cancelled",
      action: null,
      error: null,
      attempts: 1,
      comment: data.comment,
      correlationId: null,
      campaignId: null,
      requestedBy: null,
      enqueuedAt: new Date(job.timestamp).toISOString(),
      finishedAt: new Date().toISOString(),
    };
    if (publish) await publisher.publish(result);
    return result;
  },
  {
    connection,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    lockDuration: config.workerLockMs,
    stalledInterval: config.workerLockMs,
    maxStalledCount: 1,
    removeOnComplete: { age },
    removeOnFail: { age },
  },
);
await worker.waitUntilReady();

process.once("SIGTERM", () => {
  worker
    .close()
    .then(() => publisher.close())
    .finally(() => process.exit(0));
});
process.send?.({ ready: { pid: process.pid } });
