/**
 * Measurement 6 (HTTP intake): POST /v1/cancels at a steady rate, open loop (each request leaves
 * at its time, whatever the ones before it are doing), against `mde-cancel serve` in its own
 * process while a worker process cancels the jobs on the simulator. Latency is the client's:
 * from the request's send to its whole answer.
 */
import { loadavg } from "node:os";
import { freePort } from "../cli/free-port.js";
import { ApiKeyStore } from "../shared/redis/api-key-store.js";
import { keyPrefix } from "../shared/redis/queues.js";
import { startCluster } from "./cluster.js";
import {
  cliArgs,
  cpuSeconds,
  percentile,
  QUEUE,
  redisCpuSeconds,
  sleep,
  spawnChild,
  waitFor,
} from "./common.js";

export interface IntakeResult {
  rate: number;
  seconds: number;
  sent: number;
  /** Answers by HTTP status (0: no answer). */
  statuses: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** serve's own time per request (Fastify's, from its log): p50 and p99, ms. */
  serve: { p50: number; p99: number };
  /** How late the driver sent, p99 (ms): its own share of the machine's load. */
  lateP99: number;
  /** CPU % (100 = one core) over the timed part. */
  cpu: { serve: number; worker: number; sim: number; redis: number };
  /** Cancel jobs completed by the end of the timed part. */
  completed: number;
  loadavgStart: string;
  loadavgEnd: string;
  date: string;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

export async function measureIntake(rate = 200, seconds = 30, warmupSeconds = 3): Promise<IntakeResult> {
  const loadavgStart = load();
  const cluster = await startCluster({
    name: "intake",
    simLimits: [],
    limits: "1000000/1m,100000000/1h",
    workers: 1,
    concurrency: 10,
  });
  const port = await freePort();
  // One key carries the whole load here: its per-key limit is lifted (still counted in Redis).
  // serve's own time of each POST, from its "answered" log lines: the server's share of the latency.
  let served: number[] = [];
  const serve = spawnChild(
    [...cliArgs(), "serve"],
    {
      ...cluster.env,
      INTAKE_HOST: "127.0.0.1",
      INTAKE_PORT: String(port),
      INTAKE_RATE_LIMIT: "100000000/1m",
    },
    [],
    (line) => {
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; method?: string; ms?: number };
      if (entry.msg === "answered" && entry.method === "POST" && entry.ms !== undefined)
        served.push(entry.ms);
    },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      "serve",
      async () => ((await fetch(`${base}/healthz`).catch(() => null))?.ok ? true : undefined),
      30_000,
    );
    const store = new ApiKeyStore(cluster.r, keyPrefix({ queuePrefix: cluster.prefix, cancelQueue: QUEUE }));
    const { key } = await store.create({ name: "bench", tenants: [], readOnly: false });
    const ids = await cluster.seed(rate * (seconds + warmupSeconds));
    const post = async (machineActionId: string) => {
      const response = await fetch(`${base}/v1/cancels`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": key },
        body: JSON.stringify({ machineActionId, comment: "bench intake" }),
      });
      await response.arrayBuffer();
      return response.status;
    };

    const warmup = ids.slice(0, rate * warmupSeconds);
    await run(warmup, rate, post);
    const pids = { serve: serve.proc.pid, worker: cluster.workers[0]?.proc.pid, sim: cluster.sim.proc.pid };
    const before = {
      serve: cpuSeconds(pids.serve),
      worker: cpuSeconds(pids.worker),
      sim: cpuSeconds(pids.sim),
      redis: await redisCpuSeconds(cluster.r),
    };
    served = [];
    const t0 = performance.now();
    const timed = await run(ids.slice(warmup.length), rate, post);
    const elapsedS = (performance.now() - t0) / 1000;
    const pct = (cpuS: number) => Math.round((100 * cpuS) / elapsedS);
    const latencies = timed.map((s) => s.ms);
    const statuses: Record<string, number> = {};
    for (const s of timed) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    return {
      rate,
      seconds,
      sent: timed.length,
      statuses,
      p50: Math.round(percentile(latencies, 50)),
      p95: Math.round(percentile(latencies, 95)),
      p99: Math.round(percentile(latencies, 99)),
      max: Math.round(Math.max(...latencies)),
      serve: { p50: percentile(served, 50), p99: percentile(served, 99) },
      lateP99: Math.round(
        percentile(
          timed.map((s) => s.late),
          99,
        ),
      ),
      cpu: {
        serve: pct(cpuSeconds(pids.serve) - before.serve),
        worker: pct(cpuSeconds(pids.worker) - before.worker),
        sim: pct(cpuSeconds(pids.sim) - before.sim),
        redis: pct((await redisCpuSeconds(cluster.r)) - before.redis),
      },
      completed: await cluster.completed(),
      loadavgStart,
      loadavgEnd: load(),
      date: new Date().toISOString(),
    };
  } finally {
    await serve.stop();
    await cluster.close();
  }
}

interface Sample {
  status: number;
  ms: number;
  late: number;
}

/** Sends one request per id, `rate` a second on a fixed schedule, and waits for every answer. */
async function run(ids: string[], rate: number, post: (id: string) => Promise<number>): Promise<Sample[]> {
  const start = performance.now();
  const inFlight: Promise<Sample>[] = [];
  for (let i = 0; i < ids.length; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    inFlight.push(
      post(ids[i] as string).then(
        (status) => ({ status, ms: performance.now() - sent, late: sent - due }),
        () => ({ status: 0, ms: performance.now() - sent, late: sent - due }),
      ),
    );
  }
  return Promise.all(inFlight);
}
