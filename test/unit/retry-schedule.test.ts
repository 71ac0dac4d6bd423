import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_SCHEDULE,
  jitteredOffsets,
  MIN_RETRY_DELAY_MS,
  nextRetry,
} from "../../intake/callbacks/retry-schedule.js";

const HOUR = 3_600_000;
const lowest = () => 0;
const highest = () => 0.999_999;

/** Every attempt of one delivery whose receiver never answers: each attempt takes `attemptMs`. */
function wholeRun(random: () => number, attemptMs: number): number[] {
  const attempts = [0];
  for (;;) {
    const at = attempts[attempts.length - 1] as number;
    const decision = nextRetry({ elapsedMs: at + attemptMs, status: 500 }, DEFAULT_RETRY_SCHEDULE, random);
    if (!decision.retry) return attempts;
    attempts.push(at + attemptMs + decision.delayMs);
  }
}

describe("the callback retry schedule, whole", () => {
  for (const [name, random] of [
    ["least", lowest],
    ["most", highest],
  ] as const) {
    it(`with the ${name} jitter: first retry within 30 s, increasing, the last 24 h or more after the first attempt`, () => {
      const offsets = jitteredOffsets(DEFAULT_RETRY_SCHEDULE, random);
      expect(offsets[0]).toBeLessThanOrEqual(30_000);
      expect(offsets[offsets.length - 1]).toBeGreaterThanOrEqual(24 * HOUR);
      for (let i = 1; i < offsets.length; i++)
        expect(offsets[i] as number).toBeGreaterThan(offsets[i - 1] as number);

      // Receivers that answer at once and receivers that time out (10 s) alike.
      for (const attemptMs of [5, 10_000]) {
        const run = wholeRun(random, attemptMs);
        expect(run[1] as number).toBeLessThanOrEqual(30_000);
        expect(run[run.length - 1] as number).toBeGreaterThanOrEqual(24 * HOUR);
        expect(run.length).toBe(DEFAULT_RETRY_SCHEDULE.offsetsMs.length + 1);
        const gaps = run.slice(1).map((t, i) => t - (run[i] as number));
        for (let i = 1; i < gaps.length; i++)
          expect(gaps[i] as number).toBeGreaterThan(gaps[i - 1] as number);
      }
    });
  }

  it("spreads deliveries that failed together", () => {
    const a = nextRetry({ elapsedMs: 10, status: 500 }, DEFAULT_RETRY_SCHEDULE, lowest);
    const b = nextRetry({ elapsedMs: 10, status: 500 }, DEFAULT_RETRY_SCHEDULE, highest);
    expect(a.retry && b.retry && b.delayMs - a.delayMs).toBeGreaterThan(1_000);
  });

  it("stops at once on 410 Gone", () => {
    expect(nextRetry({ elapsedMs: 10, status: 410 })).toEqual({ retry: false, reason: "gone" });
  });

  it("honours Retry-After on 429 and 503, within the schedule", () => {
    const asked = { elapsedMs: 10, retryAfterMs: 90_000 };
    const plain = nextRetry({ ...asked, status: 500 }, DEFAULT_RETRY_SCHEDULE, lowest);
    expect(plain).toEqual({ retry: true, delayMs: 15_000 - 10 });
    for (const status of [429, 503])
      expect(nextRetry({ ...asked, status }, DEFAULT_RETRY_SCHEDULE, lowest)).toEqual({
        retry: true,
        delayMs: 90_000,
      });
    // A shorter Retry-After does not bring the next attempt forward.
    expect(
      nextRetry({ elapsedMs: 10, status: 429, retryAfterMs: 1 }, DEFAULT_RETRY_SCHEDULE, lowest),
    ).toEqual(plain);
    // A week-long one waits only until the schedule's last attempt.
    const week = nextRetry(
      { elapsedMs: 10, status: 503, retryAfterMs: 7 * 24 * HOUR },
      DEFAULT_RETRY_SCHEDULE,
      lowest,
    );
    expect(week).toEqual({ retry: true, delayMs: 24 * HOUR - 10 });
  });

  it("after an outage of serve that passed every offset, tries once more, then stops", () => {
    const late = nextRetry({ elapsedMs: 24 * HOUR - 500, status: 500 }, DEFAULT_RETRY_SCHEDULE, lowest);
    expect(late).toEqual({ retry: true, delayMs: MIN_RETRY_DELAY_MS });
    expect(nextRetry({ elapsedMs: 30 * HOUR, status: 500 }, DEFAULT_RETRY_SCHEDULE, lowest)).toEqual({
      retry: false,
      reason: "exhausted",
    });
  });
});
