/**
 * BullMQ's own floor for a waiting campaign job: the Redis bytes of a job added with the same id
 * (newJobId), priority and deduplication id as a campaign's, but empty data and nothing of ours
 * (no campaign record, no outcomes). What a job costs above this is the project's share.
 */
import { Queue } from "bullmq";
import { deduplicationId, newJobId } from "../shared/redis/queues.js";
import { redis, TENANT } from "./common.js";

/**
 * MEMORY USAGE of one job's hash and deduplication key, and its share of the prioritized set: the
 * same keys the campaign job's breakdown counts, and steady beside other Redis users (used_memory
 * deltas are not, on a shared Redis).
 */
export async function bareJobBytes(prefix: string, n = 10_000): Promise<number> {
  const r = redis();
  const queue = new Queue("bare", { connection: r, prefix });
  const usage = async (key: string) => Number((await r.memory("USAGE", key, "SAMPLES", "0")) ?? 0);
  try {
    await queue.waitUntilReady();
    for (let i = 0; i < n; i += 1_000)
      await queue.addBulk(
        Array.from({ length: Math.min(1_000, n - i) }, () => ({
          name: "cancel",
          data: {},
          opts: {
            jobId: newJobId(),
            priority: 1000,
            deduplication: { id: deduplicationId(TENANT, crypto.randomUUID()) },
          },
        })),
      );
    const [job] = await queue.getPrioritized(0, 0);
    const q = `${prefix}:bare`;
    return (
      (await usage(`${q}:${job?.id}`)) +
      (await usage(`${q}:de:${job?.opts.deduplication?.id}`)) +
      (await usage(`${q}:prioritized`)) / n
    );
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
    r.disconnect();
  }
}
