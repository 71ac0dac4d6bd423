/**
 * Batched state checks (issue 13): N urgent enqueues of Pending actions to one worker process at
 * concurrency 50, limits lifted, counted at the simulator. Once with one GET per check
 * (CHECK_GATHER_MS=0: before) and once as shipped (after). Alone: `BENCH_ONLY=checks npm run bench`.
 */
import { enqueueCancels } from "../jobs/enqueue.js";
import { startCluster } from "./cluster.js";
import { TENANT, waitFor } from "./common.js";

export interface ChecksResult {
  label: string;
  /** CHECK_GATHER_MS of the worker; undefined: its default. */
  gatherMs?: number;
  n: number;
  concurrency: number;
  calls: { get: number; list: number; cancel: number };
  callsPerAction: number;
  /** Ids per batched check (list call), mean; NaN without any. */
  meanBatch: number;
  /** Every batched check's size, in arrival order. */
  batches: number[];
  drainMs: number;
}

export async function measureChecks(
  label: string,
  gatherMs: number | undefined,
  n = 200,
  concurrency = 50,
): Promise<ChecksResult> {
  const c = await startCluster({
    name: "checks",
    simLimits: [],
    limits: "1000000/1m",
    workers: 1,
    concurrency,
    env: gatherMs === undefined ? {} : { CHECK_GATHER_MS: String(gatherMs) },
  });
  try {
    // One job first, so the worker holds its token and a kept-alive connection, as a running one does.
    const enqueue = (ids: string[]) =>
      enqueueCancels(
        c.queue,
        ids.map((machineActionId) => ({ machineActionId, comment: "bench checks" })),
        { defaultTenantId: TENANT },
      );
    await enqueue(await c.seed(1));
    await waitFor("warm-up", async () => ((await c.completed()) >= 1 ? true : undefined), 60_000);
    const ids = await c.seed(n);
    await c.sim.request({ op: "reset" });
    const started = Date.now();
    await enqueue(ids);
    await waitFor("checks drain", async () => ((await c.completed()) >= n + 1 ? true : undefined), 300_000);
    const drainMs = Date.now() - started;
    const { counts } = await c.stats();
    const batches = await c.sim.request<number[]>({ op: "checkSizes" });
    const calls = {
      get: counts["get:200"] ?? 0,
      list: counts["list:200"] ?? 0,
      cancel: counts["cancel:200"] ?? 0,
    };
    return {
      label,
      gatherMs,
      n,
      concurrency,
      calls,
      callsPerAction: (calls.get + calls.list + calls.cancel) / n,
      meanBatch: batches.length ? batches.reduce((a, b) => a + b, 0) / batches.length : Number.NaN,
      batches,
      drainMs,
    };
  } finally {
    await c.close();
  }
}
