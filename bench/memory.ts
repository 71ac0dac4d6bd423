/**
 * Measurement 4 (memory): 100,000 ids enqueued through `startCampaign` (addBulk, 1,000 a round
 * trip), Redis bytes per waiting job, and the RSS of a real worker process with them waiting, under
 * Microsoft's real limits (it takes what the budget allows and delays the rest).
 */

import { startCampaign } from "../jobs/campaign.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import { keyPrefix } from "../shared/redis/queues.js";
import { bareJobBytes } from "./bare-job-bytes.js";
import { startCluster } from "./cluster.js";
import { QUEUE, rssMiB, sleep, TENANT, usedMemory } from "./common.js";
import { listpackJobBytes } from "./listpack-bytes.js";

export interface MemoryResult {
  n: number;
  enqueueMs: number;
  enqueuePerSec: number;
  bytesPerJob: number;
  /** BullMQ's own floor: the same id, priority and deduplication, empty data (bare-job-bytes.ts). */
  bareJobBytes: number;
  /** Bytes per job of 10,000 more with `hash-max-listpack-value` raised (listpack-bytes.ts). */
  listpackJobBytes: number;
  /** MEMORY USAGE of one job's own keys, and each shared structure's share per job. */
  breakdown: Record<string, number>;
  idleRssMiB: number;
  loadedRssMiB: number;
  /** Jobs the worker had moved to delayed (no budget) when the RSS was read. */
  delayedAtEnd: number;
  sampleSeconds: number;
}

export async function measureMemory(
  n: number,
  sampleSeconds = 10,
  comment = "bench memory",
): Promise<MemoryResult> {
  const c = await startCluster({
    name: "mem",
    simLimits: [
      { limit: 100, windowMs: 60_000 },
      { limit: 1500, windowMs: 3_600_000 },
    ],
    limits: "100/1m,1500/1h",
    workers: 0,
    concurrency: 10,
  });
  try {
    const ids = Array.from({ length: n }, () => crypto.randomUUID());
    const store = new CampaignStore(c.r, keyPrefix({ queuePrefix: c.prefix, cancelQueue: QUEUE }), 3_600_000);
    const before = await usedMemory(c.r);
    const t0 = performance.now();
    const started = await startCampaign(c.queue, store, {
      ids,
      comment,
      tenantId: TENANT,
      source: "bench",
    });
    const enqueueMs = performance.now() - t0;
    const bytesPerJob = ((await usedMemory(c.r)) - before) / n;

    const job = (await c.queue.getPrioritized(0, 0))[0];
    const q = `${c.prefix}:${QUEUE}`;
    const usage = async (key: string) => Number((await c.r.memory("USAGE", key, "SAMPLES", "0")) ?? 0);
    const campaignKeys = (await c.r.keys(`${q}:campaign:${started.campaignId}*`)).sort();
    const breakdown: Record<string, number> = {
      "job hash": await usage(`${q}:${job?.id}`),
      "deduplication key": await usage(`${q}:de:${job?.opts.deduplication?.id}`),
      "prioritized zset (share)": (await usage(`${q}:prioritized`)) / n,
    };
    for (const key of campaignKeys) {
      const part = key.endsWith(started.campaignId) ? "record" : key.slice(key.lastIndexOf(":") + 1);
      breakdown[`campaign ${part} (share)`] = (await usage(key)) / n;
    }
    breakdown["events stream (share)"] = (await usage(`${q}:events`)) / n;
    const bare = await bareJobBytes(c.prefix);
    const listpack = await listpackJobBytes(c.prefix, comment);

    // The worker's RSS: first on an idle queue (paused), then working the 100,000 under the budget.
    await c.queue.pause();
    const [worker] = await c.startWorkers(1);
    const pid = worker?.proc.pid;
    await sleep(2_000);
    const idleRssMiB = rssMiB(pid);
    await c.queue.resume();
    let loadedRssMiB = 0;
    for (let i = 0; i < sampleSeconds * 2; i++) {
      await sleep(500);
      loadedRssMiB = Math.max(loadedRssMiB, rssMiB(pid));
    }
    const delayedAtEnd = await c.queue.getDelayedCount();
    return {
      n,
      enqueueMs,
      enqueuePerSec: n / (enqueueMs / 1000),
      bytesPerJob,
      bareJobBytes: bare,
      listpackJobBytes: listpack,
      breakdown,
      idleRssMiB,
      loadedRssMiB,
      delayedAtEnd,
      sampleSeconds,
    };
  } finally {
    await c.close();
  }
}
