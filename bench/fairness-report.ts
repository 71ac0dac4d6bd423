/** The "Tenants" section of docs/benchmarks.md (section 11), written with the rest or on its own. */
import { cpus } from "node:os";
import type { FairnessFigures } from "../test/support/fairness.js";
import { round } from "./common.js";
import { A_JOBS, B_JOBS, type FairnessBench } from "./fairness.js";
import { putSection } from "./put-section.js";
import { rows } from "./report.js";
export const FAIRNESS_HEADING = "## 11. Tenants: fairness and the cost of many";

const nproc = () => cpus().length;

export function fairnessSection(f: FairnessBench): string[] {
  const w = (ms: number, windowMs: number) => `${round(ms / windowMs, 2)} windows (${round(ms / 1000, 1)} s)`;
  const line = (name: string, x: FairnessFigures) => [
    name,
    w(x.urgentMs, x.windowMs),
    w(x.bDrainMs, x.windowMs),
    `${round((100 * x.bDrainMs) / x.bIdealMs - 100, 1)}%`,
    `${x.aCancelsMeanwhile} / ${x.aBudgetMeanwhile}`,
    `${x.aRefused} / ${x.aWaiting}`,
    x.quota429s,
  ];
  const c = f.cost;
  return [
    FAIRNESS_HEADING,
    "",
    `Tenant A drains a campaign of ${A_JOBS} jobs; then tenant B enqueues one urgent cancel and starts a campaign`,
    `of ${B_JOBS}. Both tenants have 10 calls per 2 s (8 for campaigns), one worker process (concurrency 10)`,
    "serves both, the simulator counts at arrival. Times from B's enqueue to the arrival of its cancels. B's",
    `ideal: a perfect client of its campaign budget, ${round(f.after.bIdealMs / f.after.windowMs)} windows for ${B_JOBS} jobs.`,
    "The targets: B's urgent cancel within one window plus one call; B's campaign within 10% of its ideal.",
    "A jobs taken for nothing: A's waiting jobs a worker had taken and put back for want of budget when B's",
    "campaign finished (the churn B's jobs wait behind; how long it takes depends on the CPU).",
    `Median of ${f.afterRuns.length} runs each, interleaved, on ${nproc()} cores at a load average of ${round(f.load, 1)} (B's`,
    `campaign in every run, in windows: before ${f.beforeRuns.join(", ")}; after ${f.afterRuns.join(", ")}).`,
    "",
    ...rows(
      [
        "campaign enqueue",
        "B urgent",
        "B campaign",
        "over ideal",
        "A cancels meanwhile / budget",
        "A jobs taken for nothing / waiting",
        "429s",
      ],
      [line("before: all at once", f.before), line("after: paced (campaign-pace.ts)", f.after)],
    ),
    "",
    `${c.tenants} tenants, each with a campaign in flight: their budgets (get and cancel, 100/1m,1500/1h) and`,
    `pace cursors hold ${c.redisKeys} Redis keys, ${round(c.redisBytes / 1024)} KiB (${round(c.redisBytes / c.tenants)} B a tenant;`,
    "each job's own ~1.3 KB is counted in section 4). A worker process serving them, once every tenant has",
    `its token (${c.tokens} token requests: one msal client each): RSS ${round(c.workerRssMiB)} MiB against`,
    `${round(c.oneTenantRssMiB)} MiB for one tenant; ${c.redisConnections} Redis connections, the same as for one tenant (one queue,`,
    "one blocking connection, whatever the number of tenants).",
    "",
  ];
}

/** Puts the section into docs/benchmarks.md, replacing an earlier one, before "What limits the numbers". */
export function putFairnessSection(path: string, f: FairnessBench): void {
  putSection(path, FAIRNESS_HEADING, fairnessSection(f).join("\n"));
}
