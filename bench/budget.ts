/**
 * Measurement 2 (budget use): N urgent cancels drained by 3 worker processes against a simulator
 * that enforces the same scaled-down windows as MDE_RATE_LIMITS. From the simulator's own arrival
 * times: how full each window was kept, 429s, calls per action, and the drain time against the ideal.
 */
import { enqueueCancels } from "../jobs/enqueue.js";
import type { RateWindow } from "../shared/config/durations.js";
import { paddedWindowMs } from "../shared/redis/rate-limiter.js";
import { startCluster } from "./cluster.js";
import { TENANT, waitFor } from "./common.js";

export interface WindowUse {
  endpoint: string;
  window: string;
  /** Most calls seen in any sliding window of this length, over its limit. */
  peak: number;
  /** Mean over every sliding window inside the drain (100 ms steps) of calls / limit. */
  mean: number;
  /** The ceiling the limiter's pad allows: windowMs / padded window. */
  padCeiling: number;
}
export interface BudgetResult {
  n: number;
  workers: number;
  limits: string;
  drainMs: number;
  /** N x windowMs / limit of the binding window. */
  idealSteadyMs: number;
  /** The earliest a perfect client could finish under the simulator's sliding windows. */
  idealGreedyMs: number;
  windows: WindowUse[];
  calls: number;
  callsPerAction: number;
  quota429s: number;
  tokens: number;
}

export const BUDGET_WINDOWS: RateWindow[] = [
  { limit: 20, windowMs: 2_000 },
  { limit: 60, windowMs: 10_000 },
];
export const BUDGET_LIMITS = "20/2s,60/10s";

export async function measureBudget(n: number, workers = 3): Promise<BudgetResult> {
  const c = await startCluster({
    name: "budget",
    simLimits: BUDGET_WINDOWS,
    limits: BUDGET_LIMITS,
    workers,
    concurrency: 10,
  });
  try {
    const ids = await c.seed(n);
    await c.sim.request({ op: "reset" });
    const started = Date.now();
    await enqueueCancels(
      c.queue,
      ids.map((machineActionId) => ({ machineActionId, comment: "bench budget" })),
      { defaultTenantId: TENANT, resultRetentionMs: 3_600_000 },
    );
    await waitFor("budget drain", async () => ((await c.completed()) >= n ? true : undefined), 300_000);
    const drainMs = Date.now() - started;
    const requests = await c.requests();
    const stats = await c.stats();
    const windows: WindowUse[] = [];
    for (const endpoint of ["get", "cancel"]) {
      const times = requests
        .filter(([e, , status]) => e === endpoint && status !== 429)
        .map(([, at]) => at)
        .sort((a, b) => a - b);
      for (const w of BUDGET_WINDOWS) windows.push(windowUse(endpoint, times, w));
    }
    const binding = BUDGET_WINDOWS.reduce((a, b) => (a.limit / a.windowMs < b.limit / b.windowMs ? a : b));
    const calls = (stats.counts["get:200"] ?? 0) + (stats.counts["cancel:200"] ?? 0);
    return {
      n,
      workers,
      limits: BUDGET_LIMITS,
      drainMs,
      idealSteadyMs: (n * binding.windowMs) / binding.limit,
      idealGreedyMs: greedyFinishMs(n, BUDGET_WINDOWS),
      windows,
      calls,
      callsPerAction: calls / n,
      quota429s: (stats.counts["get:429"] ?? 0) + (stats.counts["cancel:429"] ?? 0),
      tokens: stats.tokens,
    };
  } finally {
    await c.close();
  }
}

function windowUse(endpoint: string, times: number[], w: RateWindow): WindowUse {
  const count = (from: number) => {
    let k = 0;
    for (const t of times) if (t >= from && t < from + w.windowMs) k++;
    return k;
  };
  let peak = 0;
  for (const t of times) peak = Math.max(peak, count(t));
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  const samples: number[] = [];
  for (let from = first; from + w.windowMs <= last; from += 100) samples.push(count(from));
  const mean = samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : Number.NaN;
  return {
    endpoint,
    window: `${w.limit}/${w.windowMs / 1000}s`,
    peak: peak / w.limit,
    mean: mean / w.limit,
    padCeiling: w.windowMs / paddedWindowMs(w.windowMs),
  };
}

/** When the n-th call can arrive at the earliest, every call as early as every window allows. */
export function greedyFinishMs(n: number, windows: RateWindow[]): number {
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = at[i - 1] ?? 0;
    for (const w of windows) {
      const blocker = at[i - w.limit];
      if (blocker !== undefined) t = Math.max(t, blocker + w.windowMs);
    }
    at.push(t);
  }
  return at[n - 1] ?? 0;
}
