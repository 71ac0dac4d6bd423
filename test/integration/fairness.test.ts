/**
 * Fairness between tenants (issue 14), scaled down: while tenant A drains a campaign of 300 jobs,
 * tenant B's urgent cancel and B's own campaign of 50 go out at B's budget's pace, as if A's
 * backlog were not there. Both tenants have 10 calls per 2 s (8 for campaigns).
 *
 * Why 300 for A (it was 1,200; bench/fairness.ts runs 800): A's backlog must outlast B's drain
 * (A spends 8 a window, about 56 before B is done, so some 240 still wait). Without the paced
 * enqueue (jobs/campaign-pace.ts; pass `paced: false` to runFairness to see this test fail) each
 * of them stands in the prioritized set ahead of B, where the worker takes it and puts it back for
 * want of budget, window after window: all of A's waiting jobs count as refused (bench: 744 of
 * 744; here 243 of 243), against 0-8 paced. That count fails without the pace on any machine,
 * quiet or loaded; B's lateness is CPU-bound churn (6.8 windows quiet, 7.1 here and 7.7-10.8 at a
 * load of 17 before the pace), so it is asserted with a loaded machine's margin only.
 */
import { describe, expect, it } from "vitest";
import { runFairness } from "../support/fairness.js";

describe("fairness between tenants", () => {
  it("while A drains 300 campaign jobs, B's urgent cancel leaves within a window, B's 50-job campaign drains at B's pace, and A's backlog is not taken for nothing", async () => {
    const f = await runFairness({ aJobs: 300, bJobs: 50 });
    const windows = (ms: number) => ms / f.windowMs;
    // One window plus one call, with a window to spare for a loaded machine (measured: 0.2-0.3).
    expect(windows(f.urgentMs)).toBeLessThan(2);
    // A perfect client of B's campaign budget needs 6 windows for 50 jobs at 8 a window. Paced, B
    // needs its budget and nothing else; behind A's backlog it would first wait for A's jobs to be taken and put back.
    expect(windows(f.bIdealMs)).toBe(6);
    // Two windows to spare for a loaded machine (10% is the target: bench/fairness.ts measures it).
    expect(windows(f.bDrainMs)).toBeLessThan(windows(f.bIdealMs) + 2);
    // A's backlog still stood when B finished (the scenario held), and little of it had been taken
    // and put back: paced, A's jobs wait in the delayed set until its budget allows them (0 at a
    // load of 2.8, 8 of 244 at 15: a loaded machine sends a window's group of 8 late, so the next
    // group finds the window still full; at worst 8 a window, some 64). Unpaced: all of them
    // (243 of 243 at 15). Half lies well clear of both.
    expect(f.aWaiting).toBeGreaterThanOrEqual(100);
    expect(f.aRefused).toBeLessThan(f.aWaiting / 2);
    // A was not starved meanwhile, and nobody drew a 429.
    expect(f.aCancelsMeanwhile).toBeGreaterThanOrEqual(f.aBudgetMeanwhile / 2);
    expect(f.quota429s).toBe(0);
  }, 240_000);
});
