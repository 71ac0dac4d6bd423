/**
 * A simulator process plus N real worker processes (the product's CLI `worker`, i.e. startWorker)
 * on a fresh QUEUE_PREFIX, as the budget, memory and latency benches need them.
 */
import { Queue } from "bullmq";
import type { RateWindow } from "../shared/config/durations.js";
import {
  type Child,
  cliArgs,
  deleteKeys,
  QUEUE,
  redis,
  spawnChild,
  tsxChild,
  uniquePrefix,
  waitFor,
} from "./common.js";
import { type SimStats, workerEnv } from "./throughput.js";

export interface ClusterOptions {
  name: string;
  /** What the simulator enforces; [] for none. */
  simLimits: RateWindow[];
  /** Added by the simulator before every answer (default 0). */
  simLatencyMs?: number;
  /** MDE_RATE_LIMITS of the workers. */
  limits: string;
  workers: number;
  concurrency: number;
  env?: Record<string, string>;
}

export interface Cluster {
  sim: Child;
  simUrl: string;
  prefix: string;
  env: Record<string, string>;
  queue: Queue;
  r: ReturnType<typeof redis>;
  workers: Child[];
  startWorkers(n: number): Promise<Child[]>;
  /** Adds `n` actions in `status` (default Pending) to the simulator; their ids. */
  seed(n: number, status?: string): Promise<string[]>;
  stats(): Promise<SimStats>;
  /** [endpoint, arrival ms, status] of every Defender and Entra request. */
  requests(): Promise<[string, number, number][]>;
  completed(): Promise<number>;
  close(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const sim = tsxChild("sim-process.ts", {
    BENCH_SIM: JSON.stringify({ rateLimits: o.simLimits, latencyMs: o.simLatencyMs ?? 0 }),
  });
  const { url } = (await sim.ready) as { url: string };
  const prefix = uniquePrefix(o.name);
  const env = {
    ...workerEnv(prefix, url, { tier: "c", label: o.name, processes: o.workers, concurrency: o.concurrency }),
    MDE_RATE_LIMITS: o.limits,
    ...o.env,
  };
  const r = redis();
  const queue = new Queue(QUEUE, { connection: r, prefix });
  const workers: Child[] = [];
  const cluster: Cluster = {
    sim,
    simUrl: url,
    prefix,
    env,
    queue,
    r,
    workers,
    async startWorkers(n) {
      const before = await queue.getWorkersCount();
      const started = Array.from({ length: n }, () => spawnChild([...cliArgs(), "worker"], env));
      workers.push(...started);
      await waitFor(
        "workers",
        async () => ((await queue.getWorkersCount()) >= before + n ? true : undefined),
        // Generous: on a loaded 2-core machine, starting node and the CLI can take tens of seconds.
        120_000,
      );
      return started;
    },
    seed: (n, status) => sim.request<string[]>({ op: "seed", n, status }),
    stats: () => sim.request<SimStats>({ op: "stats" }),
    requests: () => sim.request<[string, number, number][]>({ op: "requests" }),
    completed: () => r.zcard(`${prefix}:${QUEUE}:completed`),
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      await queue.close();
      await sim.stop();
      r.disconnect();
      await deleteKeys(prefix);
    },
  };
  try {
    if (o.workers > 0) await cluster.startWorkers(o.workers);
  } catch (err) {
    // Workers that started late must not outlive the bench (nor the simulator).
    await cluster.close();
    throw err;
  }
  return cluster;
}
