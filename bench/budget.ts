/**
 * Measurement 2 (budget use): N urgent cancels drained by worker processes against a simulator that
 * enforces the same windows as MDE_RATE_LIMITS and answers after `latencyMs`. From the simulator's
 * own arrival times: how full each window was kept, 429s, calls per action, and how fast the backlog
 * drained against a perfect client. `npx tsx bench/drain-report.ts` runs the drain scenarios alone.
 */
import { enqueueCancels } from "../jobs/enqueue.js";
import type { RateWindow } from "../shared/config/durations.js";
import { type Cluster, startCluster } from "./cluster.js";
import { sleep, TENANT, waitFor } from "./common.js";

export interface BudgetScenario {
  n: number;
  windows: RateWindow[];
  /** The simulator's answer time (default 0). */
  latencyMs?: number;
  workers?: number;
  concurrency?: number;
}

export interface WindowUse {
  endpoint: string;
  window: string;
  /** Most calls seen in any sliding window of this length, over its limit. */
  peak: number;
  /** Mean over every sliding window inside the drain (100 ms steps) of calls / limit. */
  mean: number;
}
export interface Drain {
  endpoint: string;
  calls: number;
  /** First to last arrival at the simulator. */
  spanMs: number;
  /** The same for a perfect client: every call as early as the simulator's windows allow. */
  idealSpanMs: number;
  /** idealSpanMs / spanMs: how close the whole drain came to a perfect client's, first burst included. */
  spanRatio: number;
  /**
   * The binding window's length over the mean time between a call and the call `limit` places after it
   * (which took its slot): the share of the ideal rate the backlog drained at. A perfect client reuses
   * each slot after exactly one window; no client avoiding 429s can do it sooner.
   */
  rate: number;
}
export interface BudgetResult {
  n: number;
  workers: number;
  limits: string;
  latencyMs: number;
  drainMs: number;
  /** N x windowMs / limit of the binding window. */
  idealSteadyMs: number;
  /** The earliest a perfect client could finish under the simulator's sliding windows. */
  idealGreedyMs: number;
  windows: WindowUse[];
  drains: Drain[];
  calls: number;
  callsPerAction: number;
  quota429s: number;
  tokens: number;
}

export const BUDGET_WINDOWS: RateWindow[] = [
  { limit: 20, windowMs: 2_000 },
  { limit: 60, windowMs: 10_000 },
];

/** `20/2s,60/10s`, as MDE_RATE_LIMITS takes it. */
export const limitsText = (windows: readonly RateWindow[]) =>
  windows
    .map((w) => `${w.limit}/${w.windowMs % 1000 ? `${w.windowMs}ms` : `${w.windowMs / 1000}s`}`)
    .join(",");
export const BUDGET_LIMITS = limitsText(BUDGET_WINDOWS);

/**
 * The drain of a backlog of cancels under one window, the API answering in 20 ms: 1% of a 2 s window,
 * 0.2% of 10 s, 2% with 40 ms, and once at Microsoft's real 100 calls a minute (0.03%).
 */
export const DRAIN_SCENARIOS: BudgetScenario[] = [
  { n: 50, windows: [{ limit: 10, windowMs: 2_000 }], latencyMs: 20 },
  { n: 50, windows: [{ limit: 25, windowMs: 10_000 }], latencyMs: 20 },
  { n: 50, windows: [{ limit: 10, windowMs: 2_000 }], latencyMs: 40 },
  { n: 150, windows: [{ limit: 100, windowMs: 60_000 }], latencyMs: 20 },
];

export async function measureBudget(s: BudgetScenario): Promise<BudgetResult> {
  const { n, windows } = s;
  const workers = s.workers ?? 3;
  const latencyMs = s.latencyMs ?? 0;
  const limits = limitsText(windows);
  const c = await startCluster({
    name: "budget",
    simLimits: windows,
    simLatencyMs: latencyMs,
    limits,
    workers,
    concurrency: s.concurrency ?? 10,
    // The limiter is measured on both endpoints a job spends: one GET per check, not batched ones.
    env: { CHECK_GATHER_MS: "0" },
  });
  try {
    await warmUp(c, windows, workers);
    const warmed = await c.completed();
    const ids = await c.seed(n);
    await c.sim.request({ op: "reset" });
    const started = Date.now();
    await enqueueCancels(
      c.queue,
      ids.map((machineActionId) => ({ machineActionId, comment: "bench budget" })),
      { defaultTenantId: TENANT },
    );
    await waitFor(
      "budget drain",
      async () => ((await c.completed()) >= warmed + n ? true : undefined),
      900_000,
    );
    const drainMs = Date.now() - started;
    const requests = await c.requests();
    const stats = await c.stats();
    const use: WindowUse[] = [];
    const drains: Drain[] = [];
    for (const endpoint of ["get", "cancel"]) {
      const times = requests
        .filter(([e, , status]) => e === endpoint && status !== 429)
        .map(([, at]) => at)
        .sort((a, b) => a - b);
      for (const w of windows) use.push(windowUse(endpoint, times, w));
      const spanMs = (times.at(-1) ?? 0) - (times[0] ?? 0);
      const idealSpanMs = greedyFinishMs(times.length, windows);
      const rate = Math.max(...windows.map((w) => slotRate(times, w)));
      drains.push({
        endpoint,
        calls: times.length,
        spanMs,
        idealSpanMs,
        spanRatio: idealSpanMs / spanMs,
        rate,
      });
    }
    const binding = windows.reduce((a, b) => (a.limit / a.windowMs < b.limit / b.windowMs ? a : b));
    const calls = (stats.counts["get:200"] ?? 0) + (stats.counts["cancel:200"] ?? 0);
    return {
      n,
      workers,
      limits,
      latencyMs,
      drainMs,
      idealSteadyMs: (n * binding.windowMs) / binding.limit,
      idealGreedyMs: greedyFinishMs(n, windows),
      windows: use,
      drains,
      calls,
      callsPerAction: calls / n,
      quota429s: (stats.counts["get:429"] ?? 0) + (stats.counts["cancel:429"] ?? 0),
      tokens: stats.tokens,
    };
  } finally {
    await c.close();
  }
}

/**
 * A few jobs first, so every worker process has its token, a kept-alive connection and warm code, as
 * workers draining a backlog in production do; then one window of quiet, so the budget is whole again.
 */
async function warmUp(c: Cluster, windows: readonly RateWindow[], workers: number): Promise<void> {
  const jobs = Math.min(3 * workers, Math.floor(Math.min(...windows.map((w) => w.limit)) / 2));
  const ids = await c.seed(jobs);
  await enqueueCancels(
    c.queue,
    ids.map((machineActionId) => ({ machineActionId, comment: "bench warm-up" })),
    { defaultTenantId: TENANT },
  );
  await waitFor("warm-up", async () => ((await c.completed()) >= jobs ? true : undefined), 120_000);
  await sleep(Math.max(...windows.map((w) => w.windowMs)) + 1_000);
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
    window: limitsText([w]),
    peak: peak / w.limit,
    mean: mean / w.limit,
  };
}

/** windowMs over the mean time a slot of `w` took to serve its next call (NaN with fewer than limit + 1 calls). */
export function slotRate(sortedTimes: number[], w: RateWindow): number {
  let sum = 0;
  let k = 0;
  for (let i = w.limit; i < sortedTimes.length; i++, k++)
    sum += (sortedTimes[i] as number) - (sortedTimes[i - w.limit] as number);
  return k > 0 ? w.windowMs / (sum / k) : Number.NaN;
}

/** When the n-th call can arrive at the earliest (0 = the first), every call as early as every window allows. */
export function greedyFinishMs(n: number, windows: readonly RateWindow[]): number {
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
