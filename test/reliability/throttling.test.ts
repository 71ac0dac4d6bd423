import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createLimiter } from "../../shared/defender/defender-session.js";
import type { RateLimiter } from "../../shared/redis/rate-limiter.js";
import type { RecordedRequest } from "../../sim/server.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { startSlowFrontDoor } from "../support/slow-front-door.js";
import { waitFor } from "../support/wait.js";
import { cancelsPerAction, countBy, expectNoSecrets, record, resultTally } from "./support/evidence.js";
import { spawnWorker, stopWorkers, type WorkerProcess } from "./support/processes.js";

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
/**
 * A call that took budget before a pause began may still arrive this long after the 429 that set it,
 * plus however long this process (where the simulator stamps each arrival) stalled meanwhile: on a
 * loaded machine a call that left before the pause can be stamped hundreds of ms after it.
 */
const IN_FLIGHT_MS = 250;
const stalls = monitorEventLoopDelay({ resolution: 10 });
stalls.enable();
/** The in-flight allowance for the run so far: IN_FLIGHT_MS and the longest stall of this process. */
function inFlightMs(): number {
  return IN_FLIGHT_MS + Math.round(stalls.max / 1e6);
}
/** State checks are GETs, or list calls when the worker batched them (CHECK_GATHER_MS). */
const isDefender = (r: { endpoint: string }) =>
  r.endpoint === "get" || r.endpoint === "cancel" || r.endpoint === "list";

/**
 * When 429 pauses were in Redis, as seen from outside: polls every endpoint's remaining pause. Each
 * sighting gives a span that lies inside the pause whatever the poll's own delays: from the latest
 * it can have been written (the answer's time + remaining - the pause) to the earliest it can end.
 */
function watchPauses(limiter: RateLimiter, pauseMs: number, everyMs = 10) {
  const spans: { endpoint: string; from: number; to: number }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const endpoint of ["get", "cancel", "list"] as const) {
        const before = Date.now();
        const left = await limiter.pausedForMs(TENANT, endpoint);
        if (left > 0) spans.push({ endpoint, from: Date.now() + left - pauseMs, to: before + left });
      }
      await sleep(everyMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return spans;
  };
}

/**
 * Calls that arrived while their endpoint was paused: after a 429 (arrived at `t.at`) and before its
 * Retry-After ran out, later than `IN_FLIGHT_MS` after it (those may have been on the wire already).
 */
function callsInsidePauses(calls: RecordedRequest[], pauseMs: number, allowanceMs = inFlightMs()) {
  const violations = new Set<RecordedRequest>();
  const inFlight = new Set<RecordedRequest>();
  for (const t of calls.filter((r) => r.status === 429)) {
    for (const r of calls) {
      if (r === t || r.endpoint !== t.endpoint || r.at < t.at || r.at >= t.at + pauseMs) continue;
      (r.at <= t.at + allowanceMs ? inFlight : violations).add(r);
    }
  }
  return { violations, inFlight };
}

describe("throttling storm: 30% of Defender calls answered 429 with Retry-After", () => {
  it("fails nothing, calls no paused endpoint, and finishes soon after the storm", async () => {
    stalls.reset();
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
    const { violations, inFlight } = callsInsidePauses(calls, 1_000);
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

describe("cold start: three worker processes started together while 15% of calls are answered 429 (Retry-After 2 s)", () => {
  let workers: WorkerProcess[] = [];
  afterEach(async () => {
    await stopWorkers(workers);
    workers = [];
  });

  it("sends no call into a pause once it is written, not even one admitted while its connection was opening", async () => {
    stalls.reset();
    h = await startHarness({
      sim: { rateLimits: [], latencyMs: 20 },
      env: { MDE_RATE_LIMITS: "100000/1m", LOG_LEVEL: "info" },
    });
    const sim = h.sim;
    // A slow front end: new connections take 0.3 to 1.35 s to open; kept-alive ones are reused at once.
    const door = await startSlowFrontDoor(sim.url, (n) => 300 + 150 * (n % 8));
    const jobs = 60;
    const stormCalls = 60;
    let rolls = 0;
    sim.injectFault({
      endpoint: "any",
      status: 429,
      headers: { "Retry-After": "2" },
      times: 1_000_000,
      // Deterministic 15% of the first 60 Defender calls, the second of all among them.
      match: (req) => isDefender(req) && rolls < stormCalls && [1, 8, 15].includes(rolls++ % 20),
    });
    const ids = Array.from({ length: jobs }, () => sim.store.add({ status: "Pending" }).id);
    await h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "cold start" })));
    const redis = new Redis(REDIS_URL);
    const pausesWritten = watchPauses(createLimiter(h.config, redis), 2_000);
    const env = { ...h.env, MDE_API_BASE_URL: door.url };
    const startedAt = Date.now();
    workers = [0, 1, 2].map(() => spawnWorker(env));
    let pauses: { endpoint: string; from: number; to: number }[] = [];
    try {
      await waitFor(
        `${jobs} results`,
        async () => ((await h?.resultsQueue.count()) ?? 0) >= jobs,
        90_000,
        100,
      );
    } finally {
      pauses = await pausesWritten();
      redis.disconnect();
      await door.close();
    }
    const { results, duplicates } = await resultTally(h.resultsQueue);
    const calls = sim.requests.filter(isDefender);
    const throttles = calls.filter((r) => r.status === 429);
    const allowanceMs = inFlightMs();
    // From the moment a pause was in Redis until it ran out, only calls already on the wire may arrive.
    const inPause = calls.filter((r) =>
      pauses.some((p) => p.endpoint === r.endpoint && r.at > p.from + allowanceMs && r.at < p.to),
    );
    const figures = {
      workers: workers.length,
      jobs,
      results: results.length,
      duplicates,
      outcomes: countBy(results, (r) => r.outcome),
      defenderCalls: calls.length,
      answered429: throttles.length,
      connections: door.connections(),
      callsDuringPauses: inPause.length,
      inFlightAllowanceMs: allowanceMs,
      // The storm test's yardstick, from each 429's arrival rather than from its pause in Redis.
      callsDuringPausesFrom429: callsInsidePauses(calls, 2_000).violations.size,
      runMs: Date.now() - startedAt,
    };
    record("cold-start-pauses", figures);
    expect(results).toHaveLength(jobs);
    expect(duplicates).toBe(0);
    expect(throttles).toHaveLength(9);
    expect(pauses.length).toBeGreaterThan(0);
    expect(inPause.map((v) => `${v.method} ${v.endpoint} at +${v.at - startedAt} ms`)).toEqual([]);
    expect(figures.outcomes).toEqual({ cancelled: jobs });
  });
});

describe("Defender outage: 503 without Retry-After, longer than MAX_ATTEMPTS allow", () => {
  it("fails the jobs upstream with the last error, and the same jobs succeed once enqueued again", async () => {
    // One GET per check, so every job's three attempts are three calls (batched ones would share calls).
    h = await startHarness({
      sim: { rateLimits: [] },
      env: { MAX_ATTEMPTS: "3", LOG_LEVEL: "info", CHECK_GATHER_MS: "0" },
    });
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
