/** The "cheaper jobs" section of docs/benchmarks.md, written with the rest or on its own. */
import { round } from "./common.js";
import type { LeanResult } from "./lean.js";
import { LISTPACK_VALUE_BYTES } from "./listpack-bytes.js";
import { putSection } from "./put-section.js";
import { rows } from "./report.js";
export const LEAN_HEADING = "## 10. Cheaper jobs: Redis commands, memory, pipeline against the plain loop";
const GOAL_RATIO = 0.9;
const GOAL_BYTES = 1024;

export function leanSection(r: LeanResult): string[] {
  const m = r.memory;
  const c = r.cpuMsPerJob;
  const mark = (ok: boolean) => (ok ? "**met**" : "**missed**");
  return [
    LEAN_HEADING,
    "",
    `Measured ${r.date} (with the rest, or alone: \`BENCH_ONLY=lean npm run bench\`). Simulator with`,
    "limits lifted, every action Pending (one GET and one POST per job), one `mde-cancel worker` process",
    "at concurrency 50 against bench/plain-loop.ts (the same exchanges, no Redis) and a bare BullMQ",
    "worker whose processor does nothing (bench/noop-worker.ts), alternated run by run. The ceiling adds",
    "BullMQ's own per-job time to the plain loop's: 1 / (1/plain + 1/bare), as a share of the plain loop;",
    "the gap below it is BullMQ's, the gap between it and the pipeline making the same calls (one GET per check)",
    "is this project's. As shipped, the pipeline gathers its jobs' checks into list calls and makes about half",
    "the plain loop's calls, so it can beat the loop; the goal is read on that row, the gap on the other. The sum assumes",
    "BullMQ's time adds to the HTTP exchange's; the CPU row says how much of each is the process's CPU.",
    `Redis commands: ${r.countedJobs.toLocaleString("en")} jobs under MONITOR, every command a worker process sent`,
    "that names one of the run's keys (a script counts once; the commands it runs inside Redis do not).",
    "A command is one round trip unless it rode in a pipeline with others.",
    "Before the claim, budget and pause became one script, settles were gathered and campaign jobs left",
    "their comment to the record (same bench, 2026-12-02, 4,000 jobs x 2 runs): 12.12 commands per job",
    "(two takes, two settles, a claim SET and its release, two progress writes, the result job, callback",
    "check, audit, moveToFinished), 1,635 B per waiting campaign job (job hash 1,080 B), 44.8% of the plain loop.",
    "Before the deduplication id became a 22-character digest of tenant and action (73 characters of both",
    "ids): 1,438 B per waiting campaign job, 1,119 B with `hash-max-listpack-value 512`, BullMQ's floor 1,065 B.",
    "Before the budget a claim takes travelled with its POST, the pause gate read its call from the request",
    "(two AsyncLocalStorage uses, whose promise hooks cost every await of the worker) and p-retry was kept",
    "for a refused publish (commit f35dd77, this bench, this machine, 2026-12-03): 95.5% of the plain loop as",
    "shipped, 77.4% with one GET per check (13.4 points ours), 0.55 CPU ms per job. The day before, on a",
    "slower and busier machine, the same code gave 67%: compare ratios of one run, not of different days.",
    "",
    ...rows(
      ["", "value", "target"],
      [
        [
          "full pipeline / plain loop (median of runs)",
          `${round(100 * r.ratio, 1)}%`,
          `>= ${100 * GOAL_RATIO}%: ${mark(r.ratio >= GOAL_RATIO)}`,
        ],
        [
          "full pipeline with one GET per check (CHECK_GATHER_MS=0, the plain loop's calls) / plain loop",
          `${round(100 * r.singleRatio, 1)}%`,
          `>= ${100 * GOAL_RATIO}%: ${mark(r.singleRatio >= GOAL_RATIO)}`,
        ],
        [
          "Defender calls per job: pipeline, one GET per check, plain loop",
          `${round(r.callsPerJob.pipeline, 2)} / ${round(r.callsPerJob.single, 2)} / ${round(r.callsPerJob.plain, 2)}`,
          "-",
        ],
        [
          "ceiling: plain loop + bare BullMQ per-job cost (median of runs)",
          `${round(100 * r.ceiling, 1)}%`,
          "-",
        ],
        [
          "gap to the plain loop, same calls: BullMQ's own, this project's",
          `${round(100 * (1 - r.ceiling), 1)} / ${round(100 * (r.ceiling - r.singleRatio), 1)} points`,
          "-",
        ],
        [
          "jobs/s pipeline, one GET per check, plain loop, bare BullMQ (each run)",
          r.ratioRuns
            .map((x) => `${round(x.pipeline)} / ${round(x.single)} / ${round(x.plain)} / ${round(x.bare)}`)
            .join(", "),
          "-",
        ],
        [
          "CPU ms per job: worker process, plain loop, bare BullMQ (median of runs)",
          `${round(c.pipeline, 2)} / ${round(c.plain, 2)} / ${round(c.bare, 2)}`,
          "-",
        ],
        ["Redis commands per job", `${round(r.commandsPerJob, 2)}`, "-"],
        ...r.byKind
          .filter(([, n]) => n >= 0.01)
          .map(([kind, n]) => [`- ${kind}`, `${round(n, 2)}`, "-"] as [string, string, string]),
        [
          `Redis bytes per waiting campaign job (${m.n.toLocaleString("en")}, 40-character comment)`,
          `${round(m.bytesPerJob)} B`,
          `<= ${GOAL_BYTES} B: ${mark(m.bytesPerJob <= GOAL_BYTES)}`,
        ],
        ...Object.entries(m.breakdown).map(
          ([part, b]) => [`- ${part}`, `${round(b)} B`, "-"] as [string, string, string],
        ),
        [
          "BullMQ's own floor: the same id, priority and deduplication, empty data, nothing of ours",
          `${round(m.bareJobBytes)} B`,
          "-",
        ],
        [
          `the same campaign jobs with Redis's \`hash-max-listpack-value ${LISTPACK_VALUE_BYTES}\` (docs/operations.md)`,
          `${round(m.listpackJobBytes)} B`,
          `<= ${GOAL_BYTES} B: ${mark(m.listpackJobBytes <= GOAL_BYTES)}`,
        ],
        ["worker RSS, queue paused (idle)", `${round(m.idleRssMiB)} MiB`, "-"],
        [
          `worker RSS with ${m.n.toLocaleString("en")} waiting (max over ${m.sampleSeconds} s of work)`,
          `${round(m.loadedRssMiB)} MiB`,
          "reported",
        ],
      ],
    ),
    "",
  ];
}

/** Puts the section into an existing report, in place of the one it had (before the findings). */
export function putLeanSection(path: string, r: LeanResult): void {
  putSection(path, LEAN_HEADING, leanSection(r).join("\n"));
}
