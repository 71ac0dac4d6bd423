/** Section 7 of docs/benchmarks.md (a campaign's drain and its ETA), written with the rest or alone. */
import { campaignCap } from "../shared/redis/rate-limiter-options.js";
import { limitsText } from "./budget.js";
import {
  type CampaignDrainResult,
  type CampaignShape,
  type Computed,
  computeDrain,
  REAL,
} from "./campaign-drain.js";
import { round } from "./common.js";
import { putSection } from "./put-section.js";
import { rows } from "./report.js";
export const CAMPAIGN_HEADING = "## 9. Campaign drain and ETA: 10,000 actions, 60% terminal";
const ETA_TOLERANCE = 0.1;

/** 11_040_000 -> `3 h 4 min`; 184_000 -> `3 min 4 s`. */
export function spell(ms: number): string {
  const s = Math.round(ms / 1000);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (h > 0) return `${h} h${m ? ` ${m} min` : ""}`;
  if (m > 0) return `${m} min${sec ? ` ${sec} s` : ""}`;
  return `${sec} s`;
}

const total = (c: Computed["calls"]) => c.get + c.list + c.cancel;
const modelRows = (shape: CampaignShape, computed: { before: Computed; after: Computed }) =>
  (["before", "after"] as const).map((k) => {
    const m = computed[k];
    return [
      k === "before" ? "before: a GET per action" : "after: batched checks",
      m.calls.get.toLocaleString("en"),
      m.calls.list.toLocaleString("en"),
      m.calls.cancel.toLocaleString("en"),
      round(total(m.calls) / shape.actions, 3),
      spell(m.drainMs),
    ];
  });
const MODEL_HEAD = ["", "GET", "list", "cancel", "calls per action", "drain"];

export function campaignSection(r: CampaignDrainResult): string[] {
  const real = computeDrain(REAL);
  const [minute, hour] = REAL.budget.windows.map((w) => campaignCap(w.limit, REAL.budget.campaignShare)) as [
    number,
    number,
  ];
  const s = r.shape;
  const measuredCalls = total(r.calls);
  const worst = Math.max(...r.etaChecks.map((c) => Math.abs(c.predictedMs / c.actualMs - 1)));
  const closer =
    Math.abs(r.drainMs - r.computed.after.drainMs) < Math.abs(r.drainMs - r.computed.before.drainMs)
      ? "after"
      : "before";
  return [
    CAMPAIGN_HEADING,
    "",
    "**Computed at the real limits** (100/1m and 1,500/1h per endpoint, `CAMPAIGN_BUDGET_SHARE` 0.8):",
    `a campaign may send ${minute} calls a minute and ${hour.toLocaleString("en")} an hour on each endpoint, each call counting`,
    "for exactly its window (no pad). Sent as early as both windows allow, call k (from 0) leaves at",
    `floor(k / ${hour}) h + floor((k mod ${hour}) / ${minute}) min: ${hour.toLocaleString("en")} by minute 14, then nothing until the`,
    "first hour's calls leave the window. The endpoints have budgets of their own, so the slowest sets the pace.",
    "",
    "- Before: 10,000 GETs (one per action) and 4,000 cancels. The GET budget binds: the last GET",
    `  (k = 9,999) leaves at ${spell(real.before.drainMs)} (the steady-rate shortcut 10,000 / 1,200 per hour`,
    "  says 8.3 h; at the whole budget, 1,500/h, it would be 6 h 9 min).",
    "- After: the campaign checks its 10,000 ids in 250 list calls of 40 before enqueuing (the last at",
    "  k = 249: 3 min), the 6,000 terminal ones finish with no call, and the 4,000 others send their",
    "  cancel, each after a batched re-check (100 list calls: a status is fresh for 60 s only). The",
    "  cancel budget binds: the last cancel (k = 3,999) leaves at 3 h + 4 min after the pre-check,",
    `  ${spell(real.after.drainMs)} in all (4,000 / 1,200 per hour = 3.3 h without the first hour's burst).`,
    "",
    ...rows(MODEL_HEAD, modelRows(REAL, real)),
    "",
    `**Checked by a scaled run** (${r.date}; alone: \`BENCH_ONLY=campaign npm run bench\`): the same shape with a`,
    `tenth of the calls and a sixtieth of the time, ${s.actions.toLocaleString("en")} actions (${Math.round(s.terminalShare * 100)}% Succeeded, interleaved 3 to 2 with`,
    `Pending ones), \`MDE_RATE_LIMITS=${limitsText(s.budget.windows)}\` enforced by the simulator too, share ${s.budget.campaignShare},`,
    `${r.workers} worker processes (10 jobs each), answers after ${r.latencyMs} ms. A producer in its own process starts the`,
    "campaign (`Producer.startCampaign`, an ids list) and follows it as `campaign --wait` does (a sample every",
    "250 ms). Calls are counted by the simulator (200s), time from `startCampaign` to the last job's result.",
    "",
    ...rows(MODEL_HEAD, [
      ...modelRows(s, r.computed).map((row) => [`computed ${row[0]}`, ...row.slice(1)]),
      [
        "**measured**",
        r.calls.get.toLocaleString("en"),
        r.calls.list.toLocaleString("en"),
        r.calls.cancel.toLocaleString("en"),
        round(measuredCalls / s.actions, 3),
        spell(r.drainMs),
      ],
    ]),
    "",
    `The measured drain is closest to the **${closer}** model (${spell(r.drainMs)} measured; startCampaign itself took`,
    `${spell(r.startMs)}); quota 429s: ${r.quota429s}. Microsoft's goal for this campaign, at most 0.5 calls per action:`,
    `${measuredCalls / s.actions <= 0.5 ? "**met**" : "**missed**"} (${round(measuredCalls / s.actions, 3)}).`,
    "",
    "The ETA `campaign --wait` showed (jobs/campaign-eta.ts: the jobs left, the budget, the campaign calls",
    "already in the windows), against the time the campaign then really took:",
    "",
    ...rows(
      ["read at", "ETA", "took", "error", "target"],
      r.etaChecks.map((c) => {
        const error = c.predictedMs / c.actualMs - 1;
        return [
          c.at === 0 ? "jobs just enqueued" : `${c.at * 100}% of the drain`,
          spell(c.predictedMs),
          spell(c.actualMs),
          `${error >= 0 ? "+" : ""}${round(100 * error, 1)}%`,
          `within ${ETA_TOLERANCE * 100}%: ${Math.abs(error) <= ETA_TOLERANCE ? "**met**" : "**missed**"}`,
        ];
      }),
    ),
    "",
    `Worst ETA error: ${round(100 * worst, 1)}%.`,
    "",
  ];
}

/** Puts the section into an existing report, in place of the one it had (before the findings). */
export function putCampaignSection(path: string, r: CampaignDrainResult): void {
  putSection(path, CAMPAIGN_HEADING, campaignSection(r).join("\n"));
}
