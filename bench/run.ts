/**
 * `npm run bench`: every measurement of issue #6 in one go, then docs/benchmarks.md and a table.
 * BENCH_JOBS (default 20000) and BENCH_RUNS (default 3) shrink it for a quick look.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { BUDGET_WINDOWS, type BudgetResult, DRAIN_SCENARIOS, measureBudget } from "./budget.js";
import { measureCampaignDrain } from "./campaign-drain.js";
import { putCampaignSection } from "./campaign-report.js";
import { type ChecksResult, measureChecks } from "./checks.js";
import { putChecksSection } from "./checks-report.js";
import { median, ROOT, redis, redisUrl } from "./common.js";
import { measureFairness } from "./fairness.js";
import { putFairnessSection } from "./fairness-report.js";
import { measureIntake } from "./intake.js";
import { putIntakeSection } from "./intake-report.js";
import { measureLatency } from "./latency.js";
import { measureLean } from "./lean.js";
import { putLeanSection } from "./lean-report.js";
import { measureMemory } from "./memory.js";
import { type Machine, type TierSummary, writeReport } from "./report.js";
import { measureSeen } from "./seen.js";
import { putSeenSection } from "./seen-report.js";
import { closeBench, type Measured, measureTier, openBench, type TierSpec } from "./throughput.js";

// This entry point's own settings, read once here.
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY;
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
    redisUrl: redisUrl().replace(/\/\/[^@]*@/, "//***@"),
    maxmemoryPolicy: policy,
    bullmq: version("bullmq"),
    ioredis: version("ioredis"),
    axios: version("axios"),
    date: new Date().toISOString(),
  };
}

const DOC = join(ROOT, "docs", "benchmarks.md");

/** Batched state checks: one GET per check (before), then as shipped (after). */
async function measureAllChecks(): Promise<ChecksResult[]> {
  const results: ChecksResult[] = [];
  for (const [label, gatherMs] of [
    ["before", 0],
    ["after", undefined],
  ] as const) {
    say(`checks (${label}): 200 urgent Pending enqueues, 1 worker x 50`);
    const r = await measureChecks(label, gatherMs);
    say(
      `checks (${label}): ${r.callsPerAction.toFixed(3)} calls/action, mean batch ${r.meanBatch.toFixed(1)}`,
    );
    results.push(r);
  }
  return results;
}

/**
 * The sections measured after the main report (sections 7 and on), each put into docs/benchmarks.md
 * in place of its earlier figures; `BENCH_ONLY=<name>` runs one alone (`intake` too).
 */
const SECTIONS: Record<string, () => Promise<void>> = {
  checks: async () => putChecksSection(DOC, await measureAllChecks()),
  seen: async () => {
    say("seen: a campaign of 1,000 actions, 60% terminal, before and after its checks before enqueuing");
    const seen = await measureSeen(1_000, 0.6);
    say(`seen: ${seen.before.perAction} -> ${seen.after.perAction} calls per action`);
    putSeenSection(DOC, seen);
  },
  campaign: async () => {
    say("campaign: 1,000 actions (60% terminal) at 10/1s,150/1m, share 0.8, 3 workers");
    const campaign = await measureCampaignDrain();
    say(`campaign: drained in ${(campaign.drainMs / 1000).toFixed(1)} s`);
    putCampaignSection(DOC, campaign);
  },
  lean: async () => {
    say("cheaper jobs: Redis commands per job, memory per waiting job, pipeline against plain loop");
    const lean = await measureLean(JOBS, RUNS, say);
    say(`lean: ${(100 * lean.ratio).toFixed(1)}% of the plain loop`);
    putLeanSection(DOC, lean);
  },
  fairness: async () => {
    say("tenants: fairness before and after the paced enqueue, and the cost of 200 tenants");
    putFairnessSection(DOC, await measureFairness(RUNS, say));
  },
};

if (ONLY === "intake") {
  say(
    `intake: POST /v1/cancels at 200/s for 30 s, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const intake = await measureIntake(200, 30);
  putIntakeSection(DOC, intake);
  say(`intake: p50 ${intake.p50} ms, p99 ${intake.p99} ms; wrote its section of docs/benchmarks.md`);
  process.exit(0);
}
if (ONLY !== undefined) {
  const section = SECTIONS[ONLY];
  if (!section) {
    process.stderr.write(
      `BENCH_ONLY=${ONLY} names no section; use intake or ${Object.keys(SECTIONS).join(", ")}.\n`,
    );
    process.exit(2);
  }
  await section();
  say(`${ONLY}: wrote its section of docs/benchmarks.md`);
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

const table = writeReport(DOC, {
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
for (const section of Object.values(SECTIONS)) await section();
process.stdout.write(
  `${table}\nWrote docs/benchmarks.md in ${((Date.now() - started) / 1000).toFixed(0)} s.\n`,
);
