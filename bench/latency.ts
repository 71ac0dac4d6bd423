/**
 * Measurement 5 (latency): enqueue -> result at light load (one job every 50 ms, limits lifted),
 * and the wait of an urgent single cancel (`enqueueCancels`, no priority) while a campaign keeps
 * the scaled-down budget saturated.
 */
import { startCampaign } from "../jobs/campaign.js";
import { enqueueCancels } from "../jobs/enqueue.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import { keyPrefix } from "../shared/redis/queues.js";
import { BUDGET_LIMITS, BUDGET_WINDOWS } from "./budget.js";
import { type Cluster, startCluster } from "./cluster.js";
import { percentile, QUEUE, sleep, TENANT, waitFor } from "./common.js";

export interface LatencyResult {
  jobs: number;
  intervalMs: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Each urgent cancel's enqueue -> result, ms. */
  urgentMs: number[];
  urgentCampaignDone: number;
  urgentCampaignTotal: number;
}

const enqueue = (c: Cluster, machineActionId: string) =>
  enqueueCancels(c.queue, [{ machineActionId, comment: "bench latency" }], {
    defaultTenantId: TENANT,
  });

/** enqueue -> finish of a finished job, from the result it returned (job timestamp, finishedAt). */
async function resultOf(c: Cluster, jobId: string, timeoutMs: number): Promise<number> {
  return waitFor(
    `job ${jobId}`,
    async () => {
      const job = await c.queue.getJob(jobId);
      const result = job?.returnvalue as CancelResult | null | undefined;
      return result ? Date.parse(result.finishedAt) - Date.parse(result.enqueuedAt) : undefined;
    },
    timeoutMs,
  );
}

export async function measureLatency(seconds = 20, intervalMs = 50): Promise<LatencyResult> {
  const light = await startCluster({
    name: "lat",
    simLimits: [],
    limits: "1000000/1m,100000000/1h",
    workers: 1,
    concurrency: 10,
  });
  const samples: number[] = [];
  try {
    const n = Math.round((seconds * 1000) / intervalMs);
    const ids = await light.seed(n + 20);
    // A few untimed jobs first: the worker's first token and TLS connections are not steady state.
    for (const id of ids.slice(n)) await enqueue(light, id);
    await waitFor("warm-up", async () => ((await light.completed()) >= 20 ? true : undefined), 30_000);
    const jobIds: string[] = [];
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const due = start + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const [added] = await enqueue(light, ids[i] as string);
      if (added) jobIds.push(added.jobId);
    }
    for (const id of jobIds) samples.push(await resultOf(light, id, 30_000));
  } finally {
    await light.close();
  }

  // Urgent behind a campaign: 3 workers, the campaign owns 80% of every window, 3 urgent cancels.
  const busy = await startCluster({
    name: "urgent",
    simLimits: BUDGET_WINDOWS,
    limits: BUDGET_LIMITS,
    workers: 3,
    concurrency: 10,
  });
  const urgentMs: number[] = [];
  let campaign = { done: 0, total: 0 };
  try {
    const ids = await busy.seed(400);
    const store = new CampaignStore(
      busy.r,
      keyPrefix({ queuePrefix: busy.prefix, cancelQueue: QUEUE }),
      3_600_000,
    );
    const started = await startCampaign(busy.queue, store, {
      ids: ids.slice(0, 397),
      comment: "bench saturating campaign",
      tenantId: TENANT,
      source: "bench",
    });
    for (const id of ids.slice(397)) {
      await sleep(5_000);
      const [added] = await enqueue(busy, id);
      if (added) urgentMs.push(await resultOf(busy, added.jobId, 60_000));
    }
    const record = await store.get(started.campaignId);
    campaign = { done: record?.done ?? 0, total: record?.total ?? 0 };
  } finally {
    await busy.close();
  }
  return {
    jobs: samples.length,
    intervalMs,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    urgentMs,
    urgentCampaignDone: campaign.done,
    urgentCampaignTotal: campaign.total,
  };
}
