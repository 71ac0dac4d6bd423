import { describe, expect, it } from "vitest";
import { UsageError } from "../../shared/core/errors.js";
import {
  campaignCap,
  nearMs,
  promiseGraceMs,
  validateRateLimiterOptions,
  windowArguments,
} from "../../shared/redis/rate-limiter-options.js";

const MDE_WINDOWS = [
  { limit: 100, windowMs: 60_000 },
  { limit: 1_500, windowMs: 3_600_000 },
];

describe("campaignCap", () => {
  it("is floor(limit * share)", () => {
    expect(campaignCap(100, 0.8)).toBe(80);
    expect(campaignCap(1_500, 0.8)).toBe(1_200);
    expect(campaignCap(5, 0.8)).toBe(4);
    expect(campaignCap(7, 0.5)).toBe(3);
  });

  it("is at least 1 and at most the limit", () => {
    expect(campaignCap(1, 0.8)).toBe(1);
    expect(campaignCap(3, 0.1)).toBe(1);
    expect(campaignCap(10, 1)).toBe(10);
  });

  it("does not lose a call to floating point", () => {
    expect(campaignCap(100, 0.29)).toBe(29);
    expect(campaignCap(100, 0.07)).toBe(7);
    expect(campaignCap(100, 0.57)).toBe(57);
  });
});

describe("nearMs", () => {
  it("is a tenth of the shortest window, at most 1 s or twice the usual answer time", () => {
    expect(nearMs([{ limit: 10, windowMs: 2_000 }], 20)).toBe(200);
    expect(nearMs(MDE_WINDOWS, 20)).toBe(1_000);
    expect(nearMs(MDE_WINDOWS, 1_500)).toBe(3_000);
    expect(nearMs(MDE_WINDOWS, 60_000)).toBe(6_000);
    expect(nearMs([{ limit: 1, windowMs: 5 }], 0)).toBe(1);
  });
});

describe("promiseGraceMs", () => {
  it("is a tenth of the shortest window, from 1 to 5 s", () => {
    expect(promiseGraceMs([{ limit: 10, windowMs: 2_000 }])).toBe(1_000);
    expect(promiseGraceMs([{ limit: 10, windowMs: 20_000 }])).toBe(2_000);
    expect(promiseGraceMs(MDE_WINDOWS)).toBe(5_000);
  });
});

describe("windowArguments", () => {
  it("lists the number of windows, then length, limit and campaign cap of each", () => {
    expect(windowArguments(MDE_WINDOWS, 0.8)).toEqual([2, 60_000, 100, 80, 3_600_000, 1_500, 1_200]);
    expect(windowArguments([{ limit: 5, windowMs: 200 }], 0.5)).toEqual([1, 200, 5, 2]);
  });
});

describe("validateRateLimiterOptions", () => {
  const ok = { prefix: "bull:{mde}", windows: MDE_WINDOWS, campaignShare: 0.8 };

  it("accepts the product defaults", () => {
    expect(() => validateRateLimiterOptions(ok)).not.toThrow();
    expect(() => validateRateLimiterOptions({ ...ok, campaignShare: 1 })).not.toThrow();
  });

  it.each([
    ["no windows", { ...ok, windows: [] }],
    ["zero limit", { ...ok, windows: [{ limit: 0, windowMs: 1_000 }] }],
    ["fractional window", { ...ok, windows: [{ limit: 1, windowMs: 1.5 }] }],
    ["zero share", { ...ok, campaignShare: 0 }],
    ["share above 1", { ...ok, campaignShare: 1.2 }],
    ["NaN share", { ...ok, campaignShare: Number.NaN }],
    ["empty prefix", { ...ok, prefix: "" }],
    ["zero reservation", { ...ok, reservationMs: 0 }],
    ["fractional reservation", { ...ok, reservationMs: 1.5 }],
  ])("rejects %s", (_, options) => {
    expect(() => validateRateLimiterOptions(options)).toThrow(UsageError);
  });
});
