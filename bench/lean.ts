/**
 * Cheaper jobs (issue 13, part 3): what one job costs Redis and the worker, on the simulator with limits
 * lifted. Redis commands per job, counted by MONITOR and named by what sent them; the full pipeline
 * (one worker process) against the plain loop and a bare BullMQ no-op worker, side by side, for the
 * ceiling BullMQ's own per-job cost leaves; and memory (measureMemory: Redis bytes
 * per waiting campaign job, worker RSS with 100,000 waiting).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import type { Redis } from "ioredis";
import { CancelClaims } from "../shared/redis/cancel-claims.js";
import { FencedProgress } from "../shared/redis/fenced-progress.js";
import { ResultTargets } from "../shared/redis/publish-result.js";
import { RateLimiter } from "../shared/redis/rate-limiter.js";
import { median, QUEUE, redis, redisUrl, sleep, uniquePrefix } from "./common.js";
import { type MemoryResult, measureMemory } from "./memory.js";
import { closeBench, type Measured, measureTier, openBench, type TierSpec } from "./throughput.js";

export interface LeanResult {
  date: string;
  /** Jobs in the counted run, and every Redis command the worker processes sent for them. */
  countedJobs: number;
  commandsPerJob: number;
  /** Commands per job by what sent them, most first. */
  byKind: [string, number][];
  ratioRuns: { pipeline: number; single: number; plain: number; bare: number }[];
  pipelineJobsPerSec: number;
  plainJobsPerSec: number;
  bareJobsPerSec: number;
  ratio: number;
  /** The same with one GET per check (CHECK_GATHER_MS=0): the plain loop's very calls. */
  singleRatio: number;
  /** Defender calls per job: the pipeline (batched checks), with one GET per check, the plain loop. */
  callsPerJob: { pipeline: number; single: number; plain: number };
  /**
   * The honest ceiling, as a share of the plain loop: the plain loop's per-job time plus a bare BullMQ
   * worker's, 1 / (1/plain + 1/bare) (median of runs). Below it the gap is BullMQ's own, above it ours.
   */
  ceiling: number;
  /**
   * CPU each process type spent per job (ms, median of runs): the worker process, the plain loop, the
   * bare worker. Less swayed than jobs/s by what else runs on the machine.
   */
  cpuMsPerJob: { pipeline: number; plain: number; bare: number };
  memory: MemoryResult;
}

/** A campaign comment of 40 characters, as the memory goal states it. */
export const COMMENT_40 = "Cancelled by SOC: superseded by playbook";

const PIPELINE: TierSpec = {
  tier: "c",
  label: "full pipeline, 1 worker process",
  processes: 1,
  concurrency: 50,
};
/** The pipeline making the plain loop's very calls: a GET per check, no batching. */
const SINGLE: TierSpec = {
  ...PIPELINE,
  label: "full pipeline, one GET per check",
  env: { CHECK_GATHER_MS: "0" },
};
const PLAIN: TierSpec = { tier: "d", label: "plain loop", processes: 1, concurrency: 50 };
/** BullMQ alone (bench/noop-worker.ts): what taking and finishing a job costs with nothing done in it. */
const BARE: TierSpec = { tier: "a", label: "bare BullMQ no-op worker", processes: 1, concurrency: 50 };

export async function measureLean(
  jobs: number,
  runs: number,
  say: (line: string) => void,
): Promise<LeanResult> {
  const warmup = Math.max(500, Math.round(jobs * 0.05));
  const bench = await openBench(jobs, warmup);
  const countedJobs = 2_000;
  let counted: { commands: number; byKind: Map<string, number> };
  const ratioRuns: LeanResult["ratioRuns"] = [];
  const cpuRuns: LeanResult["cpuMsPerJob"][] = [];
  const calls: LeanResult["callsPerJob"][] = [];
  const cpuMs = (m: Measured) => (10 * m.cpu.workers) / m.jobsPerSec; // % of a core / jobs per s
  const callsPerJob = (m: Measured) => (m.apiCalls ?? 0) / m.timedJobs;
  try {
    counted = await countCommands(bench.r, async (prefix) => {
      await measureTier({ ...bench, jobs: countedJobs, warmup: 0 }, { ...PIPELINE, prefix });
    });
    say(`lean: ${(counted.commands / countedJobs).toFixed(2)} Redis commands per job`);
    for (let run = 1; run <= runs; run++) {
      const pipeline: Measured = await measureTier(bench, PIPELINE);
      const single: Measured = await measureTier(bench, SINGLE);
      const plain: Measured = await measureTier(bench, PLAIN);
      const bare: Measured = await measureTier(bench, BARE);
      ratioRuns.push({
        pipeline: pipeline.jobsPerSec,
        single: single.jobsPerSec,
        plain: plain.jobsPerSec,
        bare: bare.jobsPerSec,
      });
      calls.push({ pipeline: callsPerJob(pipeline), single: callsPerJob(single), plain: callsPerJob(plain) });
      cpuRuns.push({ pipeline: cpuMs(pipeline), plain: cpuMs(plain), bare: cpuMs(bare) });
      say(
        `lean run ${run}/${runs}: pipeline ${pipeline.jobsPerSec.toFixed(0)}, one GET per check ${single.jobsPerSec.toFixed(0)}, plain ${plain.jobsPerSec.toFixed(0)}, bare BullMQ ${bare.jobsPerSec.toFixed(0)} jobs/s`,
      );
    }
  } finally {
    await closeBench(bench);
  }
  say("lean: memory, 100,000 campaign jobs waiting");
  const memory = await measureMemory(100_000, 10, COMMENT_40);
  const pipelineJobsPerSec = median(ratioRuns.map((r) => r.pipeline));
  const plainJobsPerSec = median(ratioRuns.map((r) => r.plain));
  return {
    date: new Date().toISOString(),
    countedJobs,
    commandsPerJob: counted.commands / countedJobs,
    byKind: [...counted.byKind.entries()]
      .map(([k, n]) => [k, n / countedJobs] as [string, number])
      .sort((a, b) => b[1] - a[1]),
    ratioRuns,
    pipelineJobsPerSec,
    plainJobsPerSec,
    bareJobsPerSec: median(ratioRuns.map((r) => r.bare)),
    ratio: median(ratioRuns.map((r) => r.pipeline / r.plain)),
    singleRatio: median(ratioRuns.map((r) => r.single / r.plain)),
    callsPerJob: {
      pipeline: median(calls.map((c) => c.pipeline)),
      single: median(calls.map((c) => c.single)),
      plain: median(calls.map((c) => c.plain)),
    },
    // 1 / (1/plain + 1/bare), divided by plain.
    ceiling: median(ratioRuns.map((r) => r.bare / (r.bare + r.plain))),
    cpuMsPerJob: {
      pipeline: median(cpuRuns.map((c) => c.pipeline)),
      plain: median(cpuRuns.map((c) => c.plain)),
      bare: median(cpuRuns.map((c) => c.bare)),
    },
    memory,
  };
}

/**
 * Runs `work` (given the key prefix to use) under MONITOR and counts the commands that name a key of
 * that prefix, leaving out the driver's own connection and the commands scripts run inside Redis.
 */
async function countCommands(driver: Redis, work: (prefix: string) => Promise<void>) {
  const prefix = uniquePrefix("lean");
  const names = await scriptNames();
  const own = /addr=(\S+)/.exec(String(await driver.client("INFO")))?.[1];
  // redis-cli's MONITOR: each line `<time> [<db> <client address>|lua] "<command>" "<arg>" ...`.
  const monitor = spawn("redis-cli", ["-u", redisUrl(), "monitor"], { stdio: ["ignore", "pipe", "inherit"] });
  const byKind = new Map<string, number>();
  let commands = 0;
  createInterface({ input: monitor.stdout }).on("line", (line) => {
    const source = /^\S+ \[\d+ (\S+)\]/.exec(line)?.[1];
    const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
    if (source === undefined || source === own || source === "lua" || !args.some((a) => a.includes(prefix)))
      return;
    commands++;
    const kind = commandKind(args, prefix, names);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  });
  await sleep(500); // MONITOR is on before the work starts
  try {
    await work(prefix);
    await sleep(500); // the last lines are read
  } finally {
    monitor.kill();
  }
  return { commands, byKind };
}

/** What a command is for: a script's name, else the command and its key with ids and the prefix left out. */
function commandKind(args: string[], prefix: string, names: Map<string, string>): string {
  const command = (args[0] ?? "?").toLowerCase();
  if (command === "evalsha") return names.get(args[1] ?? "") ?? `script ${args[1]?.slice(0, 8)}`;
  const key = (args[1] ?? "")
    .replace(`${prefix}:${QUEUE}:`, "")
    .replace(prefix, "")
    .replace(/[0-9a-f-]{36}|[A-Za-z0-9_-]{22}/g, "*");
  return `${command} ${key}`;
}

/** The SHA1 of every script the worker may run: BullMQ's and this project's, by name. */
async function scriptNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const { createHash } = await import("node:crypto");
  const require = createRequire(import.meta.url);
  const bull = require("bullmq/dist/cjs/scripts/index.js") as Record<
    string,
    { name: string; content: string }
  >;
  for (const s of Object.values(bull)) names.set(createHash("sha1").update(s.content).digest("hex"), s.name);
  // The project's scripts, as ioredis defined them on a connection of its own.
  const r = redis();
  try {
    const config = {
      resultsQueues: ["results"],
      queuePrefix: "lean-names",
      cancelQueue: QUEUE,
      resultRetentionMs: 1,
      auditRetentionMs: 1,
    };
    const targets = new ResultTargets(r, config);
    new RateLimiter(r, { prefix: "lean-names", windows: [{ limit: 1, windowMs: 1 }], campaignShare: 1 });
    new CancelClaims(r, "lean-names");
    new FencedProgress(r);
    const set = (r as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet;
    for (const [name, script] of Object.entries(set)) names.set(script.sha, name);
    await targets.close();
  } finally {
    r.disconnect();
  }
  return names;
}
