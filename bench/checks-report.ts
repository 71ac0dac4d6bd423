/** Section 7 of docs/benchmarks.md (batched state checks), written with the rest or on its own. */
import type { ChecksResult } from "./checks.js";
import { round } from "./common.js";
import { putSection } from "./put-section.js";
import { rows } from "./report.js";
export const CHECKS_HEADING = "## 7. Batched state checks: calls per action";
const GOAL_CALLS_PER_ACTION = 1.3;

export function checksSection(results: ChecksResult[]): string[] {
  const first = results[0];
  return [
    CHECKS_HEADING,
    "",
    `Measured ${new Date().toISOString()} (with the rest, or alone: \`BENCH_ONLY=checks npm run bench\`).`,
    `${first?.n ?? 0} urgent enqueues of Pending actions, added at once, to one \`mde-cancel worker\` process`,
    `(${first?.concurrency ?? 0} jobs at once, warm), limits lifted; calls counted at the simulator. Each job checks its`,
    "action, then cancels it. Before: one GET per check (`CHECK_GATHER_MS=0`). After: the worker gathers the",
    "checks of its running jobs (`CHECK_GATHER_MS`, and while a list call of the tenant is on the wire) into",
    "`$filter=id in (...)` list calls of up to 40 ids; a check left alone is a GET.",
    "",
    ...rows(
      [
        "",
        "CHECK_GATHER_MS",
        "GET",
        "list",
        "cancel",
        "calls/action",
        "mean batch (ids per list call)",
        "drain",
        "target",
      ],
      results.map((r) => [
        r.label,
        r.gatherMs ?? "default (5)",
        r.calls.get,
        r.calls.list,
        r.calls.cancel,
        round(r.callsPerAction, 3),
        Number.isNaN(r.meanBatch) ? "-" : round(r.meanBatch, 1),
        `${round(r.drainMs / 1000, 1)} s`,
        r.gatherMs === 0
          ? "-"
          : `<= ${GOAL_CALLS_PER_ACTION}: ${r.callsPerAction <= GOAL_CALLS_PER_ACTION ? "**met**" : "**missed**"}`,
      ]),
    ),
    "",
    ...results
      .filter((r) => r.batches.length > 0)
      .map((r) => `${r.label}: list calls of ${r.batches.join(", ")} ids.`),
    "",
  ];
}

/** Puts the section into an existing report, in place of the one it had (before the findings). */
export function putChecksSection(path: string, results: ChecksResult[]): void {
  putSection(path, CHECKS_HEADING, checksSection(results).join("\n"));
}
