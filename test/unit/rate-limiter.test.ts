import { describe, expect, it } from "vitest";
import { UsageError } from "../../shared/core/errors.js";
import {
  campaignCap,
  classCap,
  paddedWindowMs,
  sustainableSpacingMs,
  TICKET_SLACK,
  takeArguments,
  ticketSpacingMs,
  validateRateLimiterOptions,
} from "../../shared/redis/rate-limiter.js";

const MDE_WINDOWS = [
  { limit: 100, windowMs: 60_000 },
  { limit: 1_500, windowMs: 3_600_000 },
];

describe("paddedWindowMs", () => {
  it("adds 2 % of the window, at least 500 ms", () => {
    expect(paddedWindowMs(60_000)).toBe(61_200);
    expect(paddedWindowMs(3_600_000)).toBe(3_672_000);
    expect(paddedWindowMs(1_000)).toBe(1_500);
    expect(paddedWindowMs(200)).toBe(700);
    expect(paddedWindowMs(25_000)).toBe(25_500);
    expect(paddedWindowMs(25_001)).toBe(25_001 + 501);
  });
});

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

  it("applies only to campaign calls", () => {
    expect(classCap({ limit: 100, windowMs: 1 }, 0.8, true)).toBe(80);
    expect(classCap({ limit: 100, windowMs: 1 }, 0.8, false)).toBe(100);
  });
});

describe("ticket spacing", () => {
  it("is the padded window over the cap, widened by the slack", () => {
    expect(ticketSpacingMs(60_000, 80)).toBe(Math.ceil((61_200 * (1 + TICKET_SLACK)) / 80));
    expect(ticketSpacingMs(1_000, 4)).toBe(379); // 1,500 * 1.01 / 4 = 378.75
  });

  it("takes the slowest window of the class", () => {
    // campaign: 61,200/80 = 765 vs 3,672,000/1,200 = 3,060 -> the hour binds
    expect(sustainableSpacingMs(MDE_WINDOWS, 0.8, true)).toBe(Math.ceil(3_060 * (1 + TICKET_SLACK)));
    // urgent: 612 vs 2,448
    expect(sustainableSpacingMs(MDE_WINDOWS, 0.8, false)).toBe(Math.ceil(2_448 * (1 + TICKET_SLACK)));
  });

  it("never lets tickets outpace a window", () => {
    for (const [windowMs, cap] of [
      [200, 5],
      [60_000, 80],
      [3_600_000, 1_200],
      [1_000, 1_000],
    ] as const) {
      expect(ticketSpacingMs(windowMs, cap) * cap).toBeGreaterThanOrEqual(paddedWindowMs(windowMs));
    }
  });
});

describe("takeArguments", () => {
  it("lists horizon, then padded window, limit, campaign cap and class spacing per window", () => {
    expect(takeArguments(MDE_WINDOWS, 0.8, true)).toEqual([
      1,
      3_672_000,
      2,
      61_200,
      100,
      80,
      ticketSpacingMs(60_000, 80),
      3_672_000,
      1_500,
      1_200,
      ticketSpacingMs(3_600_000, 1_200),
    ]);
    expect(takeArguments([{ limit: 5, windowMs: 200 }], 0.8, false)).toEqual([
      0,
      700,
      1,
      700,
      5,
      4,
      ticketSpacingMs(200, 5),
    ]);
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
  ])("rejects %s", (_, options) => {
    expect(() => validateRateLimiterOptions(options)).toThrow(UsageError);
  });
});
