/**
 * Measurement 1 (throughput, rate limits lifted) and 3 (cost per action). Every tier gets the same
 * number of jobs; the first `warmup` completions are not timed; jobs/s = timed jobs / timed seconds.
 * The tiers of one run go one after the other, and the runs repeat them, so drift hits each alike.
 */
import { join } from "node:path";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  type Child,
  CLIENT,
  cancelJob,
  certPath,
  cliArgs,
  cpuSeconds,
  deleteKeys,
  QUEUE,
  ROOT,
  redis,
  redisCpuSeconds,
  redisUrl,
  SECRET,
  spawnChild,
  TENANT,
  tsxChild,
  uniquePrefix,
  waitFor,
} from "./common.js";

export type Tier = "a" | "b" | "c" | "d";
export interface TierSpec {
  tier: Tier;
  label: string;
  processes: number;
  concurrency: number;
  logLevel?: string;
  autoPipelining?: boolean;
  /** The key prefix to use (fresh by default), for a caller watching its keys. */
  prefix?: string;
  /** More settings for the worker processes (e.g. CHECK_GATHER_MS). */
  env?: Record<string, string>;
}
export interface Measured {
  spec: TierSpec;
  jobsPerSec: number;
  timedJobs: number;
  timedMs: number;
  /** CPU used during the timed part, in % of one core. */
  cpu: { workers: number; sim: number; redis: number };
  apiCalls?: number;
  tokens?: number;
  failures: number;
}
export interface SimStats {
  counts: Record<string, number>;
  tokens: number;
  total: number;
}

export interface Bench {
  sim: Child;
  simUrl: string;
  loop: Child;
  r: Redis;
  jobs: number;
  warmup: number;
}

export async function openBench(jobs: number, warmup: number): Promise<Bench> {
  const sim = tsxChild("sim-process.ts", { BENCH_SIM: JSON.stringify({ rateLimits: [] }) });
  const { url } = (await sim.ready) as { url: string };
  const loop = tsxChild("plain-loop.ts", { NODE_EXTRA_CA_CERTS: certPath() });
  await loop.ready;
  return { sim, simUrl: url, loop, r: redis(), jobs, warmup };
}

export async function closeBench(b: Bench): Promise<void> {
  await Promise.all([b.sim.stop(), b.loop.stop()]);
  b.r.disconnect();
}

/** The environment of a worker process: the product's own settings, limits lifted. */
export function workerEnv(prefix: string, simUrl: string, spec: TierSpec): Record<string, string> {
  return {
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: prefix,
    CANCEL_QUEUE: QUEUE,
    MDE_API_BASE_URL: simUrl,
    AZURE_AUTHORITY_HOST: simUrl,
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: CLIENT,
    AZURE_CLIENT_SECRET: SECRET,
    MDE_RATE_LIMITS: "1000000/1m,100000000/1h",
    WORKER_CONCURRENCY: String(spec.concurrency),
    METRICS_PORT: "0",
    LOG_LEVEL: spec.logLevel ?? "info",
    NODE_EXTRA_CA_CERTS: certPath(),
    BENCH_PUBLISH: spec.tier === "b" ? "1" : "0",
    ...spec.env,
  };
}

export function startWorkers(spec: TierSpec, env: Record<string, string>, extra: string[] = []): Child[] {
  const pipelining = join(ROOT, "bench", "auto-pipelining.ts");
  const flags = spec.autoPipelining ? ["--import", "tsx", "--import", pipelining, ...extra] : extra;
  return Array.from({ length: spec.processes }, () =>
    spec.tier === "c"
      ? spawnChild([...cliArgs(), "worker"], env, flags)
      : tsxChild("noop-worker.ts", env, flags),
  );
}

export async function measureTier(b: Bench, spec: TierSpec, flags: string[] = []): Promise<Measured> {
  const total = b.jobs + b.warmup;
  await b.sim.request({ op: "reset" });
  const ids =
    spec.tier === "a" || spec.tier === "b"
      ? Array.from({ length: total }, () => crypto.randomUUID())
      : await b.sim.request<string[]>({ op: "seed", n: total });
  if (spec.tier === "d") return measurePlainLoop(b, spec, ids);

  const prefix = spec.prefix ?? uniquePrefix(`tp${spec.tier}`);
  const queue = new Queue(QUEUE, { connection: b.r, prefix });
  for (let i = 0; i < ids.length; i += 1000)
    await queue.addBulk(ids.slice(i, i + 1000).map((id) => cancelJob(id)));
  const completed = `${prefix}:${QUEUE}:completed`;
  const failed = `${prefix}:${QUEUE}:failed`;
  const workers = startWorkers(spec, workerEnv(prefix, b.simUrl, spec), flags);
  const simPid = b.sim.proc.pid;
  const cpu = async () => ({
    workers: workers.reduce((sum, w) => sum + cpuSeconds(w.proc.pid), 0),
    sim: cpuSeconds(simPid),
    redis: await redisCpuSeconds(b.r),
  });
  try {
    // A hang guard, not a measure: 21,000 jobs on a loaded 2-core machine may take minutes.
    const timeout = 600_000;
    await waitFor(
      "warm-up",
      async () => ((await b.r.zcard(completed)) >= b.warmup ? true : undefined),
      timeout,
    );
    const t0 = performance.now();
    const c0 = await b.r.zcard(completed);
    const cpu0 = await cpu();
    await waitFor(
      `${total} jobs`,
      async () => ((await b.r.zcard(completed)) + (await b.r.zcard(failed)) >= total ? true : undefined),
      timeout,
    );
    const t1 = performance.now();
    const cpu1 = await cpu();
    const timedJobs = total - c0;
    const timedMs = t1 - t0;
    const pct = (k: keyof typeof cpu0) => (100 * (cpu1[k] - cpu0[k])) / (timedMs / 1000);
    const stats = await b.sim.request<SimStats>({ op: "stats" });
    return {
      spec,
      jobsPerSec: timedJobs / (timedMs / 1000),
      timedJobs,
      timedMs,
      cpu: { workers: pct("workers"), sim: pct("sim"), redis: pct("redis") },
      // Batched checks are list calls: every Defender call counts.
      apiCalls: ["get:200", "list:200", "cancel:200"].reduce((sum, k) => sum + (stats.counts[k] ?? 0), 0),
      tokens: stats.tokens,
      failures: await b.r.zcard(failed),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await queue.close();
    await deleteKeys(prefix);
  }
}

async function measurePlainLoop(b: Bench, spec: TierSpec, ids: string[]): Promise<Measured> {
  const loopPid = b.loop.proc.pid;
  const before = { loop: cpuSeconds(loopPid), sim: cpuSeconds(b.sim.proc.pid), redis: 0 };
  const out = await b.loop.request<{ timedJobs: number; timedMs: number; calls: number; failures: number }>({
    op: "run",
    url: b.simUrl,
    ids,
    warmup: b.warmup,
    concurrency: spec.concurrency,
  });
  // CPU over the whole run here (the loop times itself): close to the timed part's share.
  const seconds = out.timedMs / 1000 / (out.timedJobs / ids.length);
  const stats = await b.sim.request<SimStats>({ op: "stats" });
  return {
    spec,
    jobsPerSec: out.timedJobs / (out.timedMs / 1000),
    timedJobs: out.timedJobs,
    timedMs: out.timedMs,
    cpu: {
      workers: (100 * (cpuSeconds(loopPid) - before.loop)) / seconds,
      sim: (100 * (cpuSeconds(b.sim.proc.pid) - before.sim)) / seconds,
      redis: 0,
    },
    apiCalls: out.calls,
    tokens: stats.tokens,
    failures: out.failures,
  };
}
