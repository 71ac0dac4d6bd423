/**
 * `npm run bench`: every measurement of issue #6 in one go, then docs/benchmarks.md and a table.
 * BENCH_JOBS (default 20000) and BENCH_RUNS (default 3) shrink it for a quick look.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { BUDGET_WINDOWS, type BudgetResult, DRAIN_SCENARIOS, measureBudget } from "./budget.js";
import { median, REDIS_URL, ROOT, redis } from "./common.js";
import { measureFairness, writeFairnessSection } from "./fairness.js";
import { measureIntake } from "./intake.js";
import { writeIntakeSection } from "./intake-report.js";
import { measureLatency } from "./latency.js";
import { measureMemory } from "./memory.js";
import { type Machine, type TierSummary, writeReport } from "./report.js";
import { closeBench, type Measured, measureTier, openBench, type TierSpec } from "./throughput.js";

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP = Math.max(500, Math.round(JOBS * 0.05));
const started = Date.now();
const say = (line: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);

const SPECS: TierSpec[] = [
  { tier: "a", label: "(a) bare BullMQ no-op worker", processes: 1, concurrency: 50 },
  { tier: "b", label: "(b) (a) + result published", processes: 1, concurrency: 50 },
  { tier: "c", label: "(c) full pipeline, 1 worker process", processes: 1, concurrency: 50 },
  { tier: "c", label: "(c) full pipeline, 2 worker processes", processes: 2, concurrency: 50 },
  { tier: "d", label: "(d) plain loop, axios keep-alive", processes: 1, concurrency: 50 },
  {
    tier: "a",
    label: "(a) with ioredis auto-pipelining",
    processes: 1,
    concurrency: 50,
    autoPipelining: true,
  },
];

async function machine(): Promise<Machine> {
  const r = redis();
  const info = await r.info("server");
  const policy = ((await r.config("GET", "maxmemory-policy")) as string[])[1] ?? "?";
  r.disconnect();
  const version = (pkg: string) =>
    (JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string })
      .version;
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: totalmem() / 2 ** 30,
    loadavg: loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "?",
    redisUrl: REDIS_URL.replace(/\/\/[^@]*@/, "//***@"),
    maxmemoryPolicy: policy,
    bullmq: version("bullmq"),
    ioredis: version("ioredis"),
    axios: version("axios"),
    date: new Date().toISOString(),
  };
}

// BENCH_ONLY=intake: only the HTTP intake, its section put into the existing docs/benchmarks.md.
if (process.env.BENCH_ONLY === "intake") {
  say(
    `intake: POST /v1/cancels at 200/s for 30 s, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const intake = await measureIntake(200, 30);
  writeIntakeSection(join(ROOT, "docs", "benchmarks.md"), intake);
  say(`intake: p50 ${intake.p50} ms, p99 ${intake.p99} ms; wrote section 6 of docs/benchmarks.md`);
  process.exit(0);
}

// BENCH_ONLY=fairness: only the tenants' section (bench/fairness.ts), put into the existing docs/benchmarks.md.
if (process.env.BENCH_ONLY === "fairness") {
  writeFairnessSection(join(ROOT, "docs", "benchmarks.md"), await measureFairness(say));
  say("wrote section 7 of docs/benchmarks.md");
  process.exit(0);
}

const host = await machine();
say(`${host.nproc} cores (${host.cpu}), node ${host.node}, redis ${host.redis}, bullmq ${host.bullmq}`);
say(`load average at start: ${host.loadavg}`);

const runs = new Map<string, Measured[]>(SPECS.map((s) => [s.label, []]));
const bench = await openBench(JOBS, WARMUP);
try {
  for (let run = 1; run <= RUNS; run++) {
    for (const spec of SPECS) {
      const m = await measureTier(bench, spec);
      runs.get(spec.label)?.push(m);
      say(`run ${run}/${RUNS} ${spec.label}: ${m.jobsPerSec.toFixed(0)} jobs/s`);
    }
  }
} finally {
  await closeBench(bench);
}
const tiers: TierSummary[] = SPECS.map((spec) => {
  const all = runs.get(spec.label) ?? [];
  const med = (f: (m: Measured) => number) => median(all.map(f));
  return {
    spec,
    runs: all.map((m) => m.jobsPerSec),
    jobsPerSec: med((m) => m.jobsPerSec),
    cpu: { workers: med((m) => m.cpu.workers), sim: med((m) => m.cpu.sim), redis: med((m) => m.cpu.redis) },
    callsPerJob: med((m) => (m.apiCalls ?? 0) / (JOBS + WARMUP)),
    tokensPer1000: med((m) => ((m.tokens ?? 0) * 1000) / (JOBS + WARMUP)),
    failures: all.reduce((sum, m) => sum + m.failures, 0),
  };
});

say("budget use: 3 workers, 20/2s and 60/10s, 180 actions");
const budget = await measureBudget({ n: 180, windows: BUDGET_WINDOWS });
say(`budget: drained in ${(budget.drainMs / 1000).toFixed(1)} s, ${budget.quota429s} 429s`);
const drains: BudgetResult[] = [];
for (const scenario of DRAIN_SCENARIOS) {
  say(
    `drain: ${scenario.n} cancels, ${scenario.windows[0]?.limit}/${scenario.windows[0]?.windowMs} ms, ${scenario.latencyMs} ms answers`,
  );
  drains.push(await measureBudget(scenario));
}
say("memory: 100,000 ids through startCampaign");
const memory = await measureMemory(100_000, 10);
say(`memory: ${memory.bytesPerJob.toFixed(0)} B/job, worker RSS ${memory.loadedRssMiB.toFixed(0)} MiB`);
say("latency: 1 job / 50 ms for 20 s, then urgent cancels behind a campaign");
const latency = await measureLatency(20, 50);
say(`latency: p50 ${latency.p50} ms, urgent ${latency.urgentMs.join(", ")} ms`);

say("intake: POST /v1/cancels at 200/s for 30 s, a worker running");
const intake = await measureIntake(200, 30);
say(`intake: p50 ${intake.p50} ms, p99 ${intake.p99} ms`);

const table = writeReport(join(ROOT, "docs", "benchmarks.md"), {
  host,
  jobs: JOBS,
  warmup: WARMUP,
  runs: RUNS,
  tiers,
  budget,
  drains,
  memory,
  latency,
  intake,
  elapsedS: (Date.now() - started) / 1000,
});
say("tenants: fairness before and after the paced enqueue, and the cost of 200 tenants");
writeFairnessSection(join(ROOT, "docs", "benchmarks.md"), await measureFairness(say));
process.stdout.write(
  `${table}\nWrote docs/benchmarks.md in ${((Date.now() - started) / 1000).toFixed(0)} s.\n`,
);
