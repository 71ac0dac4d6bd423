import { describe, expect, it } from "vitest";
import { paceBurstMs, pacedDelays, paceSlotMs } from "../../jobs/campaign-pace.js";
import { delayedOnlyForBudget } from "../../jobs/promote-job.js";

const MDE = {
  rateLimits: [
    { limit: 100, windowMs: 60_000 },
    { limit: 1500, windowMs: 3_600_000 },
  ],
  campaignBudgetShare: 0.8,
};
const SCALED = { rateLimits: [{ limit: 10, windowMs: 2_000 }], campaignBudgetShare: 0.8 };

describe("a campaign's paced enqueue", () => {
  it("spaces jobs by the tenant's tightest campaign window: 1,200 an hour binds at Microsoft's limits", () => {
    expect(paceSlotMs(MDE)).toBeCloseTo(3_000);
    expect(paceSlotMs(SCALED)).toBeCloseTo(250);
    expect(paceSlotMs({ ...SCALED, campaignBudgetShare: 0.5 })).toBeCloseTo(400);
    expect(paceBurstMs(MDE)).toBe(60_000);
  });

  it("makes a shortest window's share due at once, one such group a window: an idle tenant's first now", () => {
    const eight = (ms: number) => Array(8).fill(ms);
    expect(pacedDelays(0, 20, 250, 2_000)).toEqual([
      ...eight(0),
      ...eight(2_000),
      4_000,
      4_000,
      4_000,
      4_000,
    ]);
    // 100/1m,1500/1h at 0.8: 20 a minute (1,200 an hour binds).
    expect(pacedDelays(0, 41, 3_000, 60_000).filter((d) => d === 60_000)).toHaveLength(20);
  });

  it("queues a busy tenant's jobs after the slots already reserved", () => {
    expect(pacedDelays(1_000, 10, 250, 2_000).slice(7)).toEqual([1_000, 3_000, 3_000]);
    expect(pacedDelays(500, 3, 3_000.4)).toEqual([500, 3_500, 6_501]);
  });
});

describe("a delay promotion may end", () => {
  const campaignJob = { data: { campaignId: "c" }, processedOn: undefined, progress: 0 };
  it("is the pace of a campaign job that never ran, or a wait the worker took for campaign budget", () => {
    expect(delayedOnlyForBudget(campaignJob)).toBe(true);
    const waited = { failures: 0, delayedFor: "campaign_budget" };
    expect(delayedOnlyForBudget({ ...campaignJob, processedOn: 1, progress: waited })).toBe(true);
  });

  it("is no other: a 429 pause, a backoff, or a delay of a job that is no campaign's", () => {
    const throttled = { failures: 0, delayedFor: "throttled" };
    expect(delayedOnlyForBudget({ ...campaignJob, processedOn: 1, progress: throttled })).toBe(false);
    expect(delayedOnlyForBudget({ ...campaignJob, processedOn: 1 })).toBe(false);
    expect(delayedOnlyForBudget({ ...campaignJob, data: {} })).toBe(false);
  });
});
