import { describe, expect, it } from "vitest";
import {
  backoffMs,
  DEFAULT_THROTTLE_MS,
  MAX_RETRY_AFTER_MS,
  notFoundRecheckMs,
  parseRetryAfter,
  throttleWaitMs,
} from "../../shared/defender/retry-policy.js";

const NOW = Date.parse("2026-11-29T12:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("30", NOW)).toBe(30_000);
    expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
    expect(parseRetryAfter("1.5", NOW)).toBe(1_500);
  });
  it("reads an HTTP date relative to now, never negative", () => {
    expect(parseRetryAfter("Sun, 29 Nov 2026 12:00:45 GMT", NOW)).toBe(45_000);
    expect(parseRetryAfter("Sun, 29 Nov 2026 11:00:00 GMT", NOW)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    for (const bad of [undefined, null, "", "soon", "-5", "2026-11-29T12:00:45Z", "1e3"])
      expect(parseRetryAfter(bad, NOW)).toBeUndefined();
  });
});

describe("throttleWaitMs", () => {
  it("waits a whole minute when a 429 says nothing", () => {
    expect(throttleWaitMs(undefined, NOW)).toBe(DEFAULT_THROTTLE_MS);
    expect(throttleWaitMs("garbage", NOW)).toBe(DEFAULT_THROTTLE_MS);
  });
  it("honours and caps Retry-After", () => {
    expect(throttleWaitMs("7", NOW)).toBe(7_000);
    expect(throttleWaitMs("999999", NOW)).toBe(MAX_RETRY_AFTER_MS);
    expect(throttleWaitMs("0", NOW)).toBe(1_000);
  });
});

describe("backoffMs", () => {
  it("grows exponentially between half and the full step", () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1_000);
    expect(backoffMs(4, () => 0)).toBe(4_000);
    expect(backoffMs(4, () => 1)).toBe(8_000);
  });
  it("is capped however many attempts were made", () => {
    expect(backoffMs(60, () => 1)).toBe(5 * 60_000);
  });
});

describe("notFoundRecheckMs", () => {
  it("backs off from one second and stops at the end of the grace", () => {
    expect(notFoundRecheckMs(NOW, NOW, 30_000, 1)).toBe(1_000);
    expect(notFoundRecheckMs(NOW, NOW + 3_000, 30_000, 3)).toBe(4_000);
    expect(notFoundRecheckMs(NOW, NOW + 28_000, 30_000, 6)).toBe(2_000);
    expect(notFoundRecheckMs(NOW, NOW + 30_000, 30_000, 7)).toBeUndefined();
    expect(notFoundRecheckMs(NOW, NOW, 0, 1)).toBeUndefined();
  });
});
