/** Section 6 of docs/benchmarks.md (the HTTP intake), written with the rest or on its own. */
import type { IntakeResult } from "./intake.js";
import { putSection } from "./put-section.js";
import { rows } from "./report.js";
export const INTAKE_HEADING = "## 6. HTTP intake: POST /v1/cancels under load";
const GOAL_P99_MS = 50;

export function intakeSection(r: IntakeResult): string[] {
  const answers = Object.entries(r.statuses)
    .map(([status, n]) => `${n.toLocaleString("en")} x ${status === "0" ? "no answer" : status}`)
    .join(", ");
  return [
    INTAKE_HEADING,
    "",
    `Measured ${r.date} (with the rest, or alone: \`BENCH_ONLY=intake npm run bench\`).`,
    `${r.rate} requests a second for ${r.seconds} s (after a warm-up), open loop: each request leaves at its`,
    "time on one keep-alive client (fetch), whatever the ones before it are doing, so a slow answer",
    "cannot hide the ones queued behind it. `mde-cancel serve` runs in its own process (defaults, one",
    "API key with `INTAKE_RATE_LIMIT` lifted, counted in Redis all the same), one `mde-cancel worker`",
    "process (10 jobs at once) cancels the jobs on the simulator meanwhile. Each request names a fresh",
    "Pending action, so each one adds a job. Latency is the client's, from send to the whole answer.",
    "",
    ...rows(
      ["", "value", "target"],
      [
        [
          "latency p50 / p95 / p99 / max",
          `${r.p50} / ${r.p95} / ${r.p99} / ${r.max} ms`,
          `p99 <= ${GOAL_P99_MS} ms: ${r.p99 <= GOAL_P99_MS ? "**met**" : "**missed**"}`,
        ],
        ["serve's own time per request (its log) p50 / p99", `${r.serve.p50} / ${r.serve.p99} ms`, "-"],
        ["answers", answers, "all 202"],
        ["the driver's own lateness, p99", `${r.lateP99} ms`, "-"],
        [
          "CPU % serve / worker / simulator / redis",
          `${r.cpu.serve} / ${r.cpu.worker} / ${r.cpu.sim} / ${r.cpu.redis}`,
          "-",
        ],
        ["cancel jobs completed by the end", r.completed.toLocaleString("en"), "-"],
        ["load average (1, 5, 15 min) before / after", `${r.loadavgStart} / ${r.loadavgEnd}`, "-"],
      ],
    ),
    "",
  ];
}

/** Puts the section into an existing report, in place of the one it had (before the findings). */
export function putIntakeSection(path: string, r: IntakeResult): void {
  putSection(path, INTAKE_HEADING, intakeSection(r).join("\n"));
}
