import { afterEach, describe, expect, it } from "vitest";
import type { RecordedRequest } from "../../sim/server.js";
import { type Harness, startHarness } from "../support/harness.js";
import { waitFor } from "../support/wait.js";
import { cancelsPerAction, countBy, expectNoSecrets, record, resultTally } from "./support/evidence.js";

let h: Harness | undefined;
afterEach(async () => {
  if (h) expectNoSecrets(h.sim, h.logs);
  await h?.close();
  h = undefined;
});

/** "A minute" of storm, scaled down; RELIABILITY_STORM_MS=60000 runs the full length. */
const STORM_MS = Number(process.env.RELIABILITY_STORM_MS ?? 12_000);
/** Enough jobs to keep two workers busy through the storm and a little after it. */
const JOBS = Math.max(400, Math.round((STORM_MS / 1000) * 35));
/** A call that took budget before a pause began may still arrive this long after the 429 that set it. */
const IN_FLIGHT_MS = 250;
const isDefender = (r: { endpoint: string }) => r.endpoint === "get" || r.endpoint === "cancel";

describe("throttling storm: 30% of Defender calls answered 429 with Retry-After", () => {
  it("fails nothing, calls no paused endpoint, and finishes soon after the storm", async () => {
    h = await startHarness({
      sim: { rateLimits: [], latencyMs: 20 },
      env: { MDE_RATE_LIMITS: "100000/1m", LOG_LEVEL: "info" },
    });
    const sim = h.sim;
    let rolls = 0;
    let stormEndsAt = Date.now() + 3_600_000; // set below, once the jobs are queued
    sim.injectFault({
      endpoint: "any",
      status: 429,
      headers: { "Retry-After": "1" },
      times: 1_000_000,
      // Deterministic 30%: three of every ten Defender calls during the storm.
      match: (req) => isDefender(req) && Date.now() < stormEndsAt && rolls++ % 10 < 3,
    });
    const ids = Array.from(
      { length: JOBS },
      (_, i) => sim.store.add({ status: i % 4 ? "Pending" : "Succeeded" }).id,
    );
    await h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "storm" })));
    const startedAt = Date.now();
    stormEndsAt = startedAt + STORM_MS;
    await h.startWorker();
    await h.startWorker();

    await waitFor(
      `${JOBS} results`,
      async () => ((await h?.resultsQueue.count()) ?? 0) >= JOBS,
      STORM_MS + 60_000,
      100,
    );
    const finishedAt = Date.now();
    const { results, duplicates } = await resultTally(h.resultsQueue);

    // Every 429 paused its endpoint for Retry-After (1 s) from the moment it came back.
    const calls = sim.requests.filter(isDefender);
    const throttles = calls.filter((r) => r.status === 429);
    const violations = new Set<RecordedRequest>();
    const inFlight = new Set<RecordedRequest>();
    for (const t of throttles) {
      for (const r of calls) {
        if (r === t || r.endpoint !== t.endpoint || r.at < t.at || r.at >= t.at + 1_000) continue;
        (r.at <= t.at + IN_FLIGHT_MS ? inFlight : violations).add(r);
      }
    }
    const stormCalls = calls.filter((r) => r.at < stormEndsAt);
    const figures = {
      stormMs: STORM_MS,
      jobs: JOBS,
      results: results.length,
      duplicates,
      lost: JOBS - new Set(results.map((r) => r.jobId)).size,
      outcomes: countBy(results, (r) => r.outcome),
      maxAttempts: Math.max(...results.map((r) => r.attempts)),
      defenderCalls: calls.length,
      answered429: throttles.length,
      stormCalls: stormCalls.length,
      stormShare429: Number((throttles.length / stormCalls.length).toFixed(3)),
      callsDuringPauses: violations.size,
      callsInFlightWhenPaused: inFlight.size,
      runMs: finishedAt - startedAt,
      finishedAfterStormMs: finishedAt - stormEndsAt,
      doubleCancels: cancelsPerAction(sim).doubled.length,
    };
    record("throttling-storm", figures);
    expect(results).toHaveLength(JOBS);
    expect(duplicates).toBe(0);
    expect(results.filter((r) => r.outcome === "failed")).toEqual([]);
    expect(figures.maxAttempts).toBe(1); // a 429 spends no attempt
    expect(throttles.length).toBeGreaterThan(STORM_MS / 1000); // the storm did happen, all along
    expect([...violations].map((v) => `${v.method} ${v.endpoint} at +${v.at - startedAt} ms`)).toEqual([]);
    expect(figures.doubleCancels).toBe(0);
    // The backlog drains at full speed once the storm is over.
    expect(figures.finishedAfterStormMs).toBeLessThan(10_000);
  });
});

describe("Defender outage: 503 without Retry-After, longer than MAX_ATTEMPTS allow", () => {
  it("fails the jobs upstream with the last error, and the same jobs succeed once enqueued again", async () => {
    h = await startHarness({ sim: { rateLimits: [] }, env: { MAX_ATTEMPTS: "3", LOG_LEVEL: "info" } });
    const sim = h.sim;
    let outage = true;
    sim.injectFault({
      endpoint: "any",
      status: 503,
      times: 1_000_000,
      match: (r) => outage && isDefender(r),
    });
    const ids = Array.from({ length: 20 }, () => sim.store.add({ status: "Pending" }).id);
    const request = ids.map((machineActionId) => ({ machineActionId, comment: "outage" }));
    await h.enqueue(request);
    await h.startWorker();
    const failed = await h.results(20, 60_000);
    const callsInOutage = sim.requests.filter(isDefender).length;
    outage = false;

    const again = await h.enqueue(request);
    const all = await h.results(40, 30_000);
    const second = all.filter((r) => again.some((e) => e.jobId === r.jobId));
    const figures = {
      jobs: 40,
      results: all.length,
      duplicates: 40 - new Set(all.map((r) => r.jobId)).size,
      outageOutcomes: countBy(
        failed,
        (r) => `${r.outcome}/${r.error?.code}/${r.error?.httpStatus}/attempts=${r.attempts}`,
      ),
      callsInOutage,
      afterOutcomes: countBy(second, (r) => r.outcome),
      cancelPosts: cancelsPerAction(sim).total,
    };
    record("defender-outage", figures);
    expect(again.every((e) => e.added)).toBe(true);
    for (const r of failed)
      expect(r).toMatchObject({
        outcome: "failed",
        attempts: 3,
        error: { code: "upstream", httpStatus: 503 },
      });
    expect(callsInOutage).toBe(60); // three GETs per job, no cancel
    expect(second.map((r) => r.outcome)).toEqual(Array(20).fill("cancelled"));
    expect(figures.duplicates).toBe(0);
  });
});
