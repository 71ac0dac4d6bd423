import { describe, expect, it } from "vitest";
import {
  type CampaignBudget,
  callsLeft,
  callsWithOwnGet,
  campaignEtaMs,
  drainMs,
  etaForCalls,
} from "../../jobs/campaign-eta.js";
import { loadOf } from "../../jobs/campaign-progress.js";
import type { CampaignRecord } from "../../shared/redis/campaign-store.js";

const MIN = 60_000;
const HOUR = 3_600_000;
/** Microsoft's limits, a campaign's default share: 80 calls a minute, 1,200 an hour. */
const MDE: CampaignBudget = {
  windows: [
    { limit: 100, windowMs: MIN },
    { limit: 1500, windowMs: HOUR },
  ],
  campaignShare: 0.8,
};

describe("campaign ETA from the budget", () => {
  it("drains call by call as the windows allow: 80 a minute for 15 minutes, then the hour binds", () => {
    expect(drainMs(0, MDE)).toBe(0);
    expect(drainMs(1, MDE)).toBe(0);
    expect(drainMs(80, MDE)).toBe(0);
    expect(drainMs(81, MDE)).toBe(MIN);
    expect(drainMs(1200, MDE)).toBe(14 * MIN);
    expect(drainMs(1201, MDE)).toBe(HOUR);
    // 4,000 cancels: three full hours, then 400 more at 80 a minute (the last at minute 4).
    expect(drainMs(4000, MDE)).toBe(3 * HOUR + 4 * MIN);
    expect(drainMs(10_000, MDE)).toBe(8 * HOUR + 4 * MIN);
    // The whole budget (urgent share) is faster by exactly its caps.
    expect(drainMs(1500, { ...MDE, campaignShare: 1 })).toBe(14 * MIN);
  });

  it("counts the calls already in the windows: a campaign 15 minutes in waits for its hour", () => {
    // The first 1,200 calls left at minutes 0..14 (80 each); now is minute 15.
    const ages = Array.from({ length: 1200 }, (_, i) => 15 * MIN - Math.floor(i / 80) * MIN);
    expect(drainMs(1, MDE, ages)).toBe(45 * MIN);
    expect(drainMs(2800, MDE, ages)).toBe(3 * HOUR + 4 * MIN - 15 * MIN);
    // Calls out of every window change nothing.
    expect(drainMs(2800, MDE, [2 * HOUR, 3 * HOUR])).toBe(drainMs(2800, MDE));
  });

  it("costs a job seen terminal nothing, any other one cancel and 1/40 of a batched check", () => {
    expect(callsLeft({ terminalSeen: 6000, toCancel: 4000 })).toEqual({ get: 0, list: 100, cancel: 4000 });
    expect(callsLeft({ terminalSeen: 5, toCancel: 0 })).toEqual({ get: 0, list: 0, cancel: 0 });
    expect(callsLeft({ terminalSeen: 0, toCancel: 41 }).list).toBe(2);
    expect(campaignEtaMs({ terminalSeen: 6000, toCancel: 0 }, MDE)).toBe(0);
    expect(campaignEtaMs({ terminalSeen: 6000, toCancel: 4000 }, MDE)).toBe(3 * HOUR + 4 * MIN);
  });

  it("takes the slowest endpoint: with a GET per action, 10,000 actions 60% terminal bind on GET", () => {
    const before = callsWithOwnGet(10_000, 6000);
    expect(before).toEqual({ get: 10_000, list: 0, cancel: 4000 });
    expect(etaForCalls(before, MDE)).toBe(8 * HOUR + 4 * MIN);
    // The list budget binds when it has more calls to make than the cancel budget.
    expect(etaForCalls({ get: 0, list: 2000, cancel: 100 }, MDE)).toBe(drainMs(2000, MDE));
  });

  it("uses the budget it is given: a tenant's own, not the deployment's", () => {
    const small: CampaignBudget = { windows: [{ limit: 10, windowMs: 1_000 }], campaignShare: 0.5 };
    expect(campaignEtaMs({ terminalSeen: 0, toCancel: 11 }, small)).toBe(2_000);
  });
});

describe("a campaign's load from its record", () => {
  const record = (fields: Partial<CampaignRecord>): CampaignRecord => ({
    id: "c",
    createdAt: "2026-01-01T00:00:00.000Z",
    comment: "",
    source: "",
    priority: 1000,
    total: 0,
    done: 0,
    counts: { cancelled: 0, already_terminal: 0, not_found: 0, failed: 0 },
    ...fields,
  });

  it("counts every job left as a cancel when no state check was noted", () => {
    expect(loadOf(record({ total: 10, done: 4 }))).toEqual({ terminalSeen: 0, toCancel: 6 });
  });

  it("takes the actions seen terminal that have not finished yet out of the cancels", () => {
    const counts = { cancelled: 1, already_terminal: 2, not_found: 0, failed: 0 };
    expect(loadOf(record({ total: 10, done: 3, seenTerminal: 6, counts }))).toEqual({
      terminalSeen: 4,
      toCancel: 3,
    });
    // Never more than the jobs left, never below zero.
    const all = { cancelled: 0, already_terminal: 9, not_found: 0, failed: 0 };
    expect(loadOf(record({ total: 10, done: 9, seenTerminal: 6, counts: all }))).toEqual({
      terminalSeen: 0,
      toCancel: 1,
    });
  });
});
