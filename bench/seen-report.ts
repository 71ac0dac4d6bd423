/** The campaign-checks section of docs/benchmarks.md, written with the rest or on its own. */
import { round } from "./common.js";
import { putSection } from "./put-section.js";
import { rows } from "./report.js";
import type { SeenPhase, SeenResult } from "./seen.js";
export const SEEN_HEADING = "## 8. Campaign checks before enqueuing: calls per action";
const GOAL = 0.5;

/** A 10,000-action campaign at Microsoft's limits: each endpoint has 1,500 an hour, 80% for campaigns. */
const REAL = { n: 10_000, perHour: 1_500 * 0.8, idsPerCheck: 40 };

export function seenSection(r: SeenResult): string[] {
  const pct = Math.round(r.terminalShare * 100);
  const byEndpoint = (p: SeenPhase) => `get ${p.calls.get}, cancel ${p.calls.cancel}, list ${p.calls.list}`;
  const live = Math.round(REAL.n * (1 - r.terminalShare));
  const hours = (calls: number) => `${round(calls / REAL.perHour, 1)} h`;
  const checks = Math.ceil(REAL.n / REAL.idsPerCheck);
  return [
    SEEN_HEADING,
    "",
    `Measured ${r.date} (with the rest, or alone: \`BENCH_ONLY=seen npm run bench\`), load average ${r.loadavg}.`,
    `${r.n.toLocaleString("en")} actions, ${pct}% of them already terminal, one campaign of their ids through`,
    "the library's Producer; one worker process (50 at once), simulator limits lifted. Before: the jobs carry",
    "nothing (no lookup, as from a producer without credentials or over HTTP), so each one checks its own",
    "action, gathered by the worker with the checks of the jobs it runs at once (section 7). After: the",
    "campaign checks its ids in batches of up to 40 just before adding each chunk, and every job carries",
    "the status it saw (`seen`): terminal ones make no call, fresh live ones go straight to the cancel.",
    "Calls are counted by the simulator at arrival. With limits lifted every job runs at once, so the",
    "worker's own batches are full; at the real limits campaign jobs run a few at a time as the budget",
    "allows, and their checks batch far less (the old rule's figure is the bound: one GET each).",
    "",
    ...rows(
      ["", "calls per action", "calls by endpoint", "ids added after / last result"],
      [
        ["one GET per job (the old rule), worked out", round(r.oldComputed, 3), "-", "-"],
        ...(
          [
            ["before: jobs without seen", r.before],
            ["after: checked before enqueuing", r.after],
          ] as const
        ).map(([label, p]) => [
          label,
          round(p.perAction, 3),
          byEndpoint(p),
          `${round(p.addedMs / 1000, 1)} s / ${round(p.drainMs / 1000, 1)} s`,
        ]),
        ["goal", `<= ${GOAL}: ${r.after.perAction <= GOAL ? "**met**" : "**missed**"}`, "-", "-"],
      ],
    ),
    "",
    `Worked out for ${REAL.n.toLocaleString("en")} actions (${pct}% terminal) at the real limits, campaign share 80%`,
    `(${REAL.perHour.toLocaleString("en")} calls an hour per endpoint): with one GET per job, ${REAL.n.toLocaleString("en")} GETs bind`,
    `(${hours(REAL.n)}; the ${live.toLocaleString("en")} cancels alone need ${hours(live)}). After, ${checks} list calls`,
    `(${hours(checks)}) and ${live.toLocaleString("en")} cancels: ${hours(live)}, bound by the cancels. A live action's`,
    "status goes stale after 60 s and those cancels drain over hours, so most live actions are checked",
    `once more before their cancel: one GET each at worst (${round((checks + 2 * live) / REAL.n, 3)} calls per action, the GETs`,
    `on the get budget, which no longer binds), ${round((checks + live + Math.ceil(live / REAL.idsPerCheck)) / REAL.n, 3)} when those checks go 40 to a batch.`,
    "",
  ];
}

/** Puts the section into an existing report, in place of the one it had (before the findings). */
export function putSeenSection(path: string, r: SeenResult): void {
  putSection(path, SEEN_HEADING, seenSection(r).join("\n"));
}
