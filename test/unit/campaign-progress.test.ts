import { describe, expect, it } from "vitest";
import { budgetJobsPerMs, etaMs } from "../../jobs/campaign-progress.js";

const MDE = [
  { limit: 100, windowMs: 60_000 },
  { limit: 1500, windowMs: 3_600_000 },
];

describe("campaign ETA", () => {
  it("paces a campaign at its share of the tightest window", () => {
    expect(budgetJobsPerMs(MDE, 0.8) * 3_600_000).toBeCloseTo(1200);
    expect(budgetJobsPerMs(MDE, 1) * 3_600_000).toBeCloseTo(1500);
    expect(budgetJobsPerMs([{ limit: 10, windowMs: 1_000 }], 0.5) * 1_000).toBeCloseTo(5);
  });

  it("says hours for 10,000 actions at 1,500/h, however fast the first minute went", () => {
    const budget = budgetJobsPerMs(MDE, 0.8);
    const burst = 80 / 60_000; // the first minute's observed rate
    const eta = etaMs(10_000, burst, budget) as number;
    expect(eta / 3_600_000).toBeCloseTo(10_000 / 1200, 5);
  });

  it("uses the observed rate when it is slower than the budget, the budget before anything finished", () => {
    const budget = budgetJobsPerMs(MDE, 0.8);
    expect(etaMs(100, 1 / 60_000, budget)).toBe(100 * 60_000);
    expect(etaMs(1200, 0, budget)).toBeCloseTo(3_600_000);
    expect(etaMs(0, 0, budget)).toBe(0);
  });
});
