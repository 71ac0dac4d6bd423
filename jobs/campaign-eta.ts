/**
 * How long a campaign still takes, from the budget alone (pure functions). The budget, not CPU, sets
 * a campaign's pace: its calls leave as early as every window of the tenant's budget allows at the
 * campaign's share, each counting for exactly its window (no pad, see rate-limiter.ts), each endpoint
 * on its own budget. So the time left is the longest of the endpoints' drains, computed call by call
 * the way the limiter admits them: a campaign's first windows burst, its next hours do not.
 */
import type { RateWindow } from "../shared/config/durations.js";
import { ENDPOINTS, type Endpoint } from "../shared/defender/endpoints.js";
import { campaignCap } from "../shared/redis/rate-limiter-options.js";

/** The tenant's budget as its campaigns see it: its windows and the share campaigns may use. */
export interface CampaignBudget {
  windows: readonly RateWindow[];
  campaignShare: number;
}

/** The jobs a campaign has left, by what they still cost. */
export interface CampaignLoad {
  /** Jobs whose action the campaign saw terminal: they finish with no call. */
  terminalSeen: number;
  /** Jobs that still need their cancel: one POST each, and their share of a batched state check. */
  toCancel: number;
}

/** Actions one batched state check (`$filter=id in (...)`) covers. */
export const CHECK_BATCH = 40;

export type CallsByEndpoint = Record<Endpoint, number>;

/** What a load still costs with batched checks: no GET, a list call per CHECK_BATCH jobs, one cancel each. */
export function callsLeft(load: CampaignLoad): CallsByEndpoint {
  const toCancel = Math.max(0, load.toCancel);
  return { get: 0, list: Math.ceil(toCancel / CHECK_BATCH), cancel: toCancel };
}

/** What the same actions cost when every job checks its action with its own GET (before batching). */
export function callsWithOwnGet(actions: number, terminal: number): CallsByEndpoint {
  return { get: actions, list: 0, cancel: Math.max(0, actions - terminal) };
}

/**
 * Campaign calls already counted in the windows, per endpoint: how long ago each was answered (ms;
 * 0 for one still awaiting its answer). They hold their slots until one window after that.
 */
export type BudgetHistory = Partial<Record<Endpoint, readonly number[]>>;

/**
 * When the last of `calls` campaign calls may leave, from now: each call as early as every window
 * allows (at most `campaignCap(limit, share)` calls in any window), after the calls in `agesMs`.
 * 0 for no calls. Linear in calls x windows: 100,000 calls take a few ms.
 */
export function drainMs(calls: number, budget: CampaignBudget, agesMs: readonly number[] = []): number {
  if (calls <= 0) return 0;
  const windows = budget.windows.map((w) => ({
    windowMs: w.windowMs,
    cap: campaignCap(w.limit, budget.campaignShare),
  }));
  const longest = Math.max(...windows.map((w) => w.windowMs));
  // Past calls as times (negative: before now), oldest first; those out of every window do not matter.
  const at = agesMs
    .filter((a) => a < longest)
    .map((a) => -Math.max(0, a))
    .sort((x, y) => x - y);
  let t = 0;
  for (let i = 0; i < calls; i++) {
    for (const w of windows) {
      const blocker = at[at.length - w.cap];
      if (blocker !== undefined) t = Math.max(t, blocker + w.windowMs);
    }
    at.push(t);
  }
  return t;
}

/**
 * The campaign's time left (ms): the slowest endpoint's drain. Jobs seen terminal cost nothing; the
 * others one cancel and a share of a batched check. Other traffic of the tenant (urgent cancels,
 * other campaigns) is not foreseen: it can only make the campaign later.
 */
export function campaignEtaMs(
  load: CampaignLoad,
  budget: CampaignBudget,
  history: BudgetHistory = {},
): number {
  return etaForCalls(callsLeft(load), budget, history);
}

/** The same for any count of calls per endpoint. */
export function etaForCalls(
  calls: CallsByEndpoint,
  budget: CampaignBudget,
  history: BudgetHistory = {},
): number {
  return Math.max(0, ...ENDPOINTS.map((e) => drainMs(calls[e], budget, history[e])));
}
