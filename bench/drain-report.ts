/**
 * How fast a backlog drains under the limiter, against a perfect client, for the "Budget use" section of
 * docs/benchmarks.md. Runs alone too: `npx tsx bench/drain-report.ts [n latencyMs limits]` (default: every
 * scenario of DRAIN_SCENARIOS, the real 100/1m one included, about four minutes).
 */
import { pathToFileURL } from "node:url";
import { parseRateLimits } from "../shared/config/durations.js";
import { type BudgetResult, type BudgetScenario, DRAIN_SCENARIOS, measureBudget } from "./budget.js";
import { round } from "./common.js";
import { rows } from "./report.js";

const pct = (x: number) => `${round(100 * x, 1)}%`;

/** The goal: 98% of the ideal rate when answers take under 0.5% of the window, 95% up to 2%. */
export function drainTarget(r: BudgetResult): number {
  const windowMs = Math.min(...r.limits.split(",").map((l) => parseRateLimits(l)?.[0]?.windowMs ?? 0));
  return r.latencyMs / windowMs < 0.005 ? 0.98 : 0.95;
}

/** The slower of the two endpoints: a job needs both, so the backlog drains at that pace. */
const drainRate = (r: BudgetResult) => Math.min(...r.drains.map((d) => d.rate));

export function drainSection(results: BudgetResult[]): string[] {
  return [
    `Backlogs of cancels drained by ${results[0]?.workers ?? 3} worker processes (warm: each has its token and a kept-alive`,
    "connection), the simulator enforcing the same single window and answering after the given time. The rate",
    "is the window over the mean time a slot took to serve its next call (the call `limit` places later), from",
    "the simulator's arrival times: a perfect client reuses every slot after exactly one window, and one that",
    "counts each call until its answer after one window plus the answer time. Span is the first to the last",
    "arrival against a perfect client's, first burst included.",
    "",
    ...rows(
      [
        "window",
        "answer time",
        "cancels",
        "GET rate",
        "cancel rate",
        "span",
        "quota 429s",
        "calls/action",
        "target",
      ],
      results.map((r) => {
        const target = drainTarget(r);
        return [
          r.limits,
          `${r.latencyMs} ms`,
          r.n,
          pct(r.drains.find((d) => d.endpoint === "get")?.rate ?? Number.NaN),
          pct(r.drains.find((d) => d.endpoint === "cancel")?.rate ?? Number.NaN),
          pct(Math.min(...r.drains.map((d) => d.spanRatio))),
          r.quota429s,
          round(r.callsPerAction, 3),
          `>= ${pct(target)} and no 429: ${drainRate(r) >= target && r.quota429s === 0 ? "**met**" : "**missed**"}`,
        ];
      }),
    ),
    "",
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [n, latencyMs, limits] = process.argv.slice(2);
  const windows = limits ? parseRateLimits(limits) : undefined;
  const scenarios: BudgetScenario[] = windows
    ? [{ n: Number(n), latencyMs: Number(latencyMs), windows }]
    : DRAIN_SCENARIOS;
  const results: BudgetResult[] = [];
  for (const s of scenarios) results.push(await measureBudget(s));
  process.stdout.write(`${drainSection(results).join("\n")}\n`);
}
