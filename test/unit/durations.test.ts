import { describe, expect, it } from "vitest";
import { parseDuration, parseRateLimits } from "../../shared/config/durations.js";

describe("parseDuration", () => {
  it("reads every unit", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
  });
  it("refuses what is not <int><unit>", () => {
    for (const bad of ["", "7", "1.5h", "-1s", "0s", "1w", "h1", "1 h"])
      expect(parseDuration(bad)).toBeUndefined();
    expect(parseDuration("5ms", ["s", "m", "h", "d"])).toBeUndefined();
  });
});

describe("parseRateLimits", () => {
  it("reads the documented default", () => {
    expect(parseRateLimits("100/1m,1500/1h")).toEqual([
      { limit: 100, windowMs: 60_000 },
      { limit: 1500, windowMs: 3_600_000 },
    ]);
  });
  it("refuses malformed grammars", () => {
    for (const bad of ["", "100", "100/", "/1m", "0/1m", "100/1d", "100/1m,", "a/1m", "100/1m;5/1s"])
      expect(parseRateLimits(bad)).toBeUndefined();
  });
});
