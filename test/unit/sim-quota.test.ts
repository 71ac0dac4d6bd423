import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, Quota } from "../../sim/quota.js";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("Quota", () => {
  it("defaults to Microsoft's 100/min and 1500/h", () => {
    expect(DEFAULT_RATE_LIMITS).toEqual([
      { limit: 100, windowMs: 60_000 },
      { limit: 1500, windowMs: 3_600_000 },
    ]);
  });

  it("refuses the call after the limit, with Retry-After up to when the oldest call leaves", () => {
    const t = clock();
    const q = new Quota([{ limit: 3, windowMs: 60_000 }], t.now);
    expect(q.take("t1", "get")).toEqual({ allowed: true });
    t.advance(10_000);
    q.take("t1", "get");
    q.take("t1", "get");
    t.advance(500);
    const refused = q.take("t1", "get");
    // The oldest call was at 0 ms; it leaves the window at 60 000 ms; now is 10 500 ms.
    expect(refused).toMatchObject({ allowed: false, retryAfterSec: 50, endpoint: "get" });
  });

  it("rounds Retry-After up and never answers 0", () => {
    const t = clock();
    const q = new Quota([{ limit: 1, windowMs: 1_000 }], t.now);
    q.take("t", "cancel");
    t.advance(999);
    expect(q.take("t", "cancel")).toMatchObject({ allowed: false, retryAfterSec: 1 });
    t.advance(1);
    expect(q.take("t", "cancel")).toEqual({ allowed: true });
  });

  it("slides: a call becomes possible exactly when the oldest leaves, and refused calls use no budget", () => {
    const t = clock();
    const q = new Quota([{ limit: 2, windowMs: 10_000 }], t.now);
    q.take("t", "list");
    t.advance(4_000);
    q.take("t", "list");
    for (let i = 0; i < 5; i++) expect(q.take("t", "list").allowed).toBe(false);
    t.advance(5_999);
    expect(q.take("t", "list")).toMatchObject({ allowed: false, retryAfterSec: 1 });
    t.advance(1);
    expect(q.take("t", "list").allowed).toBe(true);
    expect(q.used("t", "list")).toBe(2);
  });

  it("keeps separate budgets per tenant and per endpoint", () => {
    const q = new Quota([{ limit: 1, windowMs: 60_000 }], clock().now);
    expect(q.take("t1", "get").allowed).toBe(true);
    expect(q.take("t1", "get").allowed).toBe(false);
    expect(q.take("t1", "cancel").allowed).toBe(true);
    expect(q.take("t2", "get").allowed).toBe(true);
  });

  it("reports the window that needs the longest wait when several are full", () => {
    const t = clock();
    const q = new Quota(
      [
        { limit: 2, windowMs: 1_000 },
        { limit: 3, windowMs: 60_000 },
      ],
      t.now,
    );
    q.take("t", "get");
    q.take("t", "get");
    t.advance(2_000);
    q.take("t", "get");
    t.advance(100);
    // The minute window holds 3 calls (at 0, 0, 2000); the first leaves at 60 000.
    expect(q.take("t", "get")).toMatchObject({
      allowed: false,
      retryAfterSec: 58,
      window: { limit: 3, windowMs: 60_000 },
    });
  });

  it("forgets calls older than the longest window and can be reset", () => {
    const t = clock();
    const q = new Quota([{ limit: 2, windowMs: 1_000 }], t.now);
    q.take("t", "get");
    q.take("t", "get");
    t.advance(1_000);
    expect(q.used("t", "get")).toBe(0);
    q.take("t", "get");
    q.take("t", "get");
    q.reset();
    expect(q.take("t", "get").allowed).toBe(true);
  });

  it("allows everything with no windows and refuses nonsense windows", () => {
    const q = new Quota([], clock().now);
    for (let i = 0; i < 1000; i++) expect(q.take("t", "get").allowed).toBe(true);
    expect(() => new Quota([{ limit: 0, windowMs: 1000 }])).toThrow(RangeError);
  });
});
