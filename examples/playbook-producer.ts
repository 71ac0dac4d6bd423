/**
 * A playbook-style producer: cancels the actions named on the command line, then waits for their
 * results by reading the finished jobs (no results queue consumed).
 *
 *   npx tsx examples/playbook-producer.ts <machineActionId...>
 *
 * Configuration comes from the environment or .env, as for the CLI (REDIS_URL, AZURE_TENANT_ID...).
 */
import {
  connectRedis,
  enqueueCancels,
  openQueue,
  parseConfig,
  readEnvironment,
  readResults,
} from "../jobs/index.js";
import { sleep } from "../shared/core/sleep.js";

const config = parseConfig(readEnvironment(process.env, process.cwd()));
const redis = await connectRedis(config.redisUrl);
const queue = openQueue(config.cancelQueue, redis, config);
const ids = process.argv.slice(2);

const enqueued = await enqueueCancels(
  queue,
  ids.map((machineActionId) => ({
    machineActionId,
    comment: "Cancelled by playbook",
    correlationId: "INC-4711",
  })),
  { defaultTenantId: config.tenantId, resultRetentionMs: config.resultRetentionMs },
);
const jobIds = new Set(enqueued.map((e) => e.jobId));
console.log(
  `enqueued ${enqueued.filter((e) => e.added).length}, already queued ${enqueued.filter((e) => !e.added).length}`,
);

const deadline = Date.now() + 120_000;
while (Date.now() < deadline) {
  const mine = (await readResults(queue)).filter((r) => jobIds.has(r.jobId));
  if (mine.length === jobIds.size) {
    for (const r of mine)
      console.log(`${r.machineActionId}: ${r.outcome}${r.error ? ` (${r.error.code})` : ""}`);
    break;
  }
  await sleep(1_000);
}
await queue.close();
redis.disconnect();
