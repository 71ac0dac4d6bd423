import type { TenantInfo } from "../shared/config/tenant-directory.js";
import type { PaceCursor } from "../shared/redis/pace-cursor.js";
import { campaignCap } from "../shared/redis/rate-limiter-options.js";

/** The budget a campaign is paced by: its tenant's windows and campaign share. */
export type PaceBudget = Pick<TenantInfo, "rateLimits" | "campaignBudgetShare">;

/**
 * How far apart a tenant's campaign jobs are due: every job spends at most one call of each
 * endpoint's budget (one GET, at most one cancel), so the tightest campaign window sets the pace,
 * e.g. 10/2 s at a share of 0.8 (8 per 2 s) is one job every 250 ms, and 100/1m,1500/1h (1,200
 * an hour binds) one every 3 s.
 */
export function paceSlotMs(budget: PaceBudget): number {
  const { rateLimits, campaignBudgetShare: share } = budget;
  return Math.max(...rateLimits.map((w) => w.windowMs / campaignCap(w.limit, share)));
}

/**
 * The delay of each of `count` jobs whose first slot starts `firstInMs` from now. Jobs are due a
 * shortest window's worth at a time (`burstMs` / `slotMs` of them, as the limiter would let them
 * through), one such group every `burstMs`: the same rate as one job a slot, without leaving the
 * window's first slots idle. A tenant whose campaign budget is idle (`firstInMs` 0) starts at once. Pure.
 */
export function pacedDelays(firstInMs: number, count: number, slotMs: number, burstMs = 0): number[] {
  const group = Math.max(1, Math.floor(burstMs / slotMs + 1e-9));
  return Array.from({ length: count }, (_, k) =>
    Math.max(0, Math.round(firstInMs + Math.floor(k / group) * group * slotMs)),
  );
}

/** The shortest window: what an idle tenant's campaign may spend at once. */
export function paceBurstMs(budget: PaceBudget): number {
  return Math.min(...budget.rateLimits.map((w) => w.windowMs));
}

/**
 * A campaign that paces its own enqueue: each chunk of jobs is added delayed to when its tenant's
 * campaign budget will allow it, so its backlog waits in BullMQ's delayed set (where no worker
 * takes and refuses it) and only jobs that can run soon stand in the prioritized set, ahead of
 * another tenant's. The worker's budget refusal stays the safety net. See docs/architecture.md,
 * "Fairness between tenants".
 */
export interface CampaignPace {
  /** Reserves `count` slots of the tenant's campaign budget; the delay of each job, in order. */
  delays(count: number): Promise<number[]>;
  /** Gives back `count` slots reserved for jobs that were never added, or were removed before they ran. */
  giveBack(count: number): Promise<void>;
}

export function campaignPace(cursor: PaceCursor, tenantId: string, budget: PaceBudget): CampaignPace {
  const slotMs = paceSlotMs(budget);
  const burstMs = paceBurstMs(budget);
  return {
    async delays(count) {
      if (count === 0) return [];
      return pacedDelays(await cursor.reserve(tenantId, count, slotMs), count, slotMs, burstMs);
    },
    async giveBack(count) {
      if (count > 0) await cursor.giveBack(tenantId, count, slotMs);
    },
  };
}
