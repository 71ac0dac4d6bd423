import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RateWindow } from "../../shared/config/durations.js";
import {
  paddedWindowMs,
  RateLimiter,
  type RateLimiterOptions,
  type TakeResult,
  ticketSpacingMs,
} from "../../shared/redis/rate-limiter.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TENANT = "11111111-2222-3333-4444-555555555555";

/** Separate connections stand in for separate worker processes and hosts. */
let connections: Redis[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  connections = [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)];
  await Promise.all(connections.map((c) => c.ping()));
});

afterEach(async () => {
  const admin = connections[3] as Redis;
  for (const prefix of prefixes.splice(0)) {
    const keys = await scanKeys(admin, prefix);
    if (keys.length > 0) await admin.del(...keys);
  }
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.quit()));
});

async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

/** One limiter per "process" (the first three connections), all on a fresh prefix with a hash tag. */
function setup(windows: RateWindow[], campaignShare = 0.8) {
  const prefix = `test:{rl-${randomUUID()}}`;
  prefixes.push(prefix);
  const options: RateLimiterOptions = { prefix, windows, campaignShare };
  const limiters = connections.slice(0, 3).map((c) => new RateLimiter(c, options));
  return {
    prefix,
    limiters,
    limiter: limiters[0] as RateLimiter,
    logKey: `${prefix}:rl:${TENANT}:cancel:log`,
  };
}

function refused(result: TakeResult): { waitMs: number; reason: "budget" | "paused" } {
  if (result.ok) throw new Error("expected a refusal, got an admission");
  return result;
}

/** Polls `check` until it returns true or the deadline passes; returns the ms it took. */
async function eventually(check: () => Promise<boolean>, deadlineMs: number, everyMs = 2): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > deadlineMs) throw new Error(`condition not met within ${deadlineMs} ms`);
    await sleep(everyMs);
  }
  return performance.now() - start;
}

/**
 * Collects every admitted call with its Redis timestamp by reading the log faster than it is trimmed,
 * so the sliding-window property can be checked on Redis's own clock.
 */
function recordHistory(key: string, everyMs = 40) {
  const admin = connections[3] as Redis;
  const seen = new Map<string, number>();
  let running = true;
  const read = async () => {
    const flat = await admin.zrange(key, 0, -1, "WITHSCORES");
    for (let i = 0; i < flat.length; i += 2) seen.set(flat[i] as string, Number(flat[i + 1]));
  };
  const loop = (async () => {
    while (running) {
      await read();
      await sleep(everyMs);
    }
  })();
  return async (): Promise<number[]> => {
    running = false;
    await loop;
    await read();
    return [...seen.values()].sort((a, b) => a - b);
  };
}

/** The most calls found in any span of `spanMs` (a call at s occupies (s - spanMs, s]). */
function maxInSpan(sortedScores: number[], spanMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < sortedScores.length; last++) {
    while ((sortedScores[first] as number) <= (sortedScores[last] as number) - spanMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** Keeps calling take() from `callers` loops on the given limiters until `untilMs` has passed. */
async function hammer(
  limiters: RateLimiter[],
  callers: number,
  untilMs: number,
  options: { campaign?: boolean } = {},
): Promise<number> {
  const end = performance.now() + untilMs;
  let admitted = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, i) => {
      const limiter = limiters[i % limiters.length] as RateLimiter;
      while (performance.now() < end) {
        const result = await limiter.take(TENANT, "cancel", options);
        if (result.ok) admitted++;
        await sleep(Math.random() * 4);
      }
    }),
  );
  return admitted;
}

describe("RateLimiter on Redis", () => {
  it("admits exactly the limit when three connections burst at once", async () => {
    const { limiters } = setup([{ limit: 10, windowMs: 2_000 }]);
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => (limiters[i % 3] as RateLimiter).take(TENANT, "cancel")),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    for (const r of results.filter((r) => !r.ok)) {
      expect(refused(r).reason).toBe("budget");
      expect(refused(r).waitMs).toBeGreaterThan(0);
    }
  });

  it("never admits more than the limit in any sliding window under sustained concurrent load", async () => {
    const window = { limit: 6, windowMs: 300 };
    const { limiters, logKey } = setup([window]);
    const history = recordHistory(logKey);
    const admitted = await hammer(limiters, 24, 1_500);
    const scores = await history();
    expect(scores).toHaveLength(admitted);
    expect(admitted).toBeGreaterThanOrEqual(window.limit * 2);
    expect(maxInSpan(scores, paddedWindowMs(window.windowMs))).toBeLessThanOrEqual(window.limit);
    expect(maxInSpan(scores, window.windowMs)).toBeLessThanOrEqual(window.limit);
  });

  it("keeps tenants and endpoints apart", async () => {
    const { limiter } = setup([{ limit: 1, windowMs: 2_000 }]);
    expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    expect((await limiter.take(TENANT, "cancel")).ok).toBe(false);
    expect((await limiter.take(TENANT, "get")).ok).toBe(true);
    expect((await limiter.take("other-tenant", "cancel")).ok).toBe(true);
  });

  it("stops campaign calls at their share while urgent calls still get through", async () => {
    const { limiters, limiter } = setup([{ limit: 5, windowMs: 2_000 }], 0.8);
    const campaign = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (limiters[i % 3] as RateLimiter).take(TENANT, "cancel", { campaign: true }),
      ),
    );
    expect(campaign.filter((r) => r.ok)).toHaveLength(4);
    expect((await limiters[1]?.take(TENANT, "cancel", { campaign: true }))?.ok).toBe(false);
    expect((await limiters[2]?.take(TENANT, "cancel"))?.ok).toBe(true);
    expect(refused(await limiter.take(TENANT, "cancel")).reason).toBe("budget");
    const status = await limiter.status(TENANT, "cancel");
    expect(status.windows).toEqual([{ limit: 5, windowMs: 2_000, used: 5, left: 0 }]);
    expect(status.pausedForMs).toBe(0);
  });

  it("refuses campaign calls when urgent calls used the whole limit", async () => {
    const { limiter } = setup([{ limit: 3, windowMs: 2_000 }], 0.5);
    for (let i = 0; i < 3; i++) expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    expect(refused(await limiter.take(TENANT, "cancel", { campaign: true })).reason).toBe("budget");
  });

  it("returns a wait after which a take succeeds, and not before", async () => {
    const window = { limit: 3, windowMs: 500 };
    const { limiter } = setup([window]);
    const start = performance.now();
    for (let i = 0; i < 3; i++) expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    const { waitMs } = refused(await limiter.take(TENANT, "cancel"));
    expect(waitMs).toBeLessThanOrEqual(paddedWindowMs(window.windowMs));
    expect(waitMs).toBeGreaterThan(paddedWindowMs(window.windowMs) - (performance.now() - start) - 5);

    await sleep(waitMs - 100);
    expect((await limiter.take(TENANT, "cancel")).ok).toBe(false);
    await sleep(100);
    // The wait has passed: admitted at once (a couple of ms allowed for timer granularity).
    await eventually(async () => (await limiter.take(TENANT, "cancel")).ok, 20);
  });

  it("honours two windows at once", async () => {
    const short = { limit: 5, windowMs: 200 };
    const long = { limit: 8, windowMs: 2_000 };
    const { limiter } = setup([short, long]);
    const start = performance.now();
    for (let i = 0; i < 5; i++) expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    const first = refused(await limiter.take(TENANT, "cancel"));
    expect(first.waitMs).toBeLessThanOrEqual(paddedWindowMs(short.windowMs));

    await sleep(first.waitMs);
    await eventually(async () => (await limiter.take(TENANT, "cancel")).ok, 20);
    expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    // 8 calls in the long window: the short window has room, the long one refuses until the first call leaves.
    const second = refused(await limiter.take(TENANT, "cancel"));
    const elapsed = performance.now() - start;
    expect(second.waitMs).toBeGreaterThan(paddedWindowMs(long.windowMs) - elapsed - 5);
    expect(second.waitMs).toBeLessThanOrEqual(paddedWindowMs(long.windowMs));
    const status = await limiter.status(TENANT, "cancel");
    expect(status.windows.map((w) => w.used)).toEqual([3, 8]);
    expect(status.windows.map((w) => w.left)).toEqual([2, 0]);
  });

  it("honours two windows under concurrent load from three connections", async () => {
    const short = { limit: 5, windowMs: 200 };
    const long = { limit: 8, windowMs: 2_000 };
    const { limiters, logKey } = setup([short, long]);
    const history = recordHistory(logKey);
    const admitted = await hammer(limiters, 15, 2_600);
    const scores = await history();
    expect(scores).toHaveLength(admitted);
    expect(admitted).toBeGreaterThan(8);
    expect(maxInSpan(scores, paddedWindowMs(short.windowMs))).toBeLessThanOrEqual(short.limit);
    expect(maxInSpan(scores, paddedWindowMs(long.windowMs))).toBeLessThanOrEqual(long.limit);
  });

  it("pauses every caller, reports the remaining pause and never shortens it", async () => {
    const { limiters, limiter } = setup([{ limit: 50, windowMs: 1_000 }]);
    const start = performance.now();
    await limiters[1]?.pause(TENANT, "cancel", 600);

    const urgent = refused(await limiter.take(TENANT, "cancel"));
    expect(urgent.reason).toBe("paused");
    expect(urgent.waitMs).toBeGreaterThan(500);
    expect(urgent.waitMs).toBeLessThanOrEqual(600);
    const campaign = refused((await limiters[2]?.take(TENANT, "cancel", { campaign: true })) as TakeResult);
    expect(campaign.reason).toBe("paused");
    expect(campaign.waitMs).toBeGreaterThan(500);
    expect(campaign.waitMs).toBeLessThanOrEqual(600);
    // another endpoint is not paused
    expect((await limiter.take(TENANT, "get")).ok).toBe(true);

    await limiters[2]?.pause(TENANT, "cancel", 100);
    const status = await limiter.status(TENANT, "cancel");
    expect(status.pausedForMs).toBeGreaterThan(400);
    expect(status.pausedForMs).toBeLessThanOrEqual(600);

    await limiter.pause(TENANT, "cancel", 900);
    expect((await limiter.status(TENANT, "cancel")).pausedForMs).toBeGreaterThan(800);

    await eventually(async () => (await limiter.take(TENANT, "cancel")).ok, 1_200, 20);
    expect(performance.now() - start).toBeGreaterThanOrEqual(880);
    expect((await limiter.status(TENANT, "cancel")).pausedForMs).toBe(0);
  });

  it("spreads refused campaign callers at the sustainable spacing; urgent callers do not queue behind them", async () => {
    const window = { limit: 5, windowMs: 1_000 };
    const { limiters, limiter } = setup([window], 0.8);
    for (let i = 0; i < 4; i++)
      expect((await limiter.take(TENANT, "cancel", { campaign: true })).ok).toBe(true);

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (limiters[i % 3] as RateLimiter).take(TENANT, "cancel", { campaign: true }),
      ),
    );
    const waits = results.map((r) => refused(r).waitMs).sort((a, b) => a - b);
    expect(new Set(waits).size).toBe(50);
    const spacing = ticketSpacingMs(window.windowMs, 4);
    expect(waits[0]).toBeLessThanOrEqual(paddedWindowMs(window.windowMs));
    for (let i = 1; i < waits.length; i++) {
      const gap = (waits[i] as number) - (waits[i - 1] as number);
      expect(gap).toBeLessThanOrEqual(spacing);
      expect(gap).toBeGreaterThan(spacing - 25);
    }

    // The urgent reserve is untouched, and a refused urgent caller waits for the window, not the campaign queue.
    expect((await limiters[1]?.take(TENANT, "cancel"))?.ok).toBe(true);
    const urgent = refused((await limiters[2]?.take(TENANT, "cancel")) as TakeResult);
    expect(urgent.waitMs).toBeLessThanOrEqual(paddedWindowMs(window.windowMs));
  });

  it("spaces refused callers by the window that refused them", async () => {
    const short = { limit: 5, windowMs: 300 };
    const long = { limit: 8, windowMs: 3_000 };
    const { limiters, limiter } = setup([short, long]);
    const gaps = (results: TakeResult[]) => {
      const waits = results.map((r) => refused(r).waitMs).sort((a, b) => a - b);
      return { first: waits[0] as number, gaps: waits.slice(1).map((w, i) => w - (waits[i] as number)) };
    };
    const burst = () =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) => (limiters[i % 3] as RateLimiter).take(TENANT, "cancel")),
      );

    const start = performance.now();
    for (let i = 0; i < 5; i++) expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    const shortRefusals = gaps(await burst());
    const shortSpacing = ticketSpacingMs(short.windowMs, short.limit);
    for (const gap of shortRefusals.gaps) expect(gap).toBeGreaterThan(shortSpacing - 25);
    for (const gap of shortRefusals.gaps) expect(gap).toBeLessThanOrEqual(shortSpacing);

    await sleep(shortRefusals.first);
    await eventually(async () => (await limiter.take(TENANT, "cancel")).ok, 20);
    expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);
    expect((await limiter.take(TENANT, "cancel")).ok).toBe(true);

    // Now the long window is full: refused callers wait for it and are spaced at its (slower) rate.
    const longRefusals = gaps(await burst());
    const longSpacing = ticketSpacingMs(long.windowMs, long.limit);
    expect(longRefusals.first).toBeGreaterThan(
      paddedWindowMs(long.windowMs) - (performance.now() - start) - 5,
    );
    for (const gap of longRefusals.gaps) expect(gap).toBeGreaterThan(longSpacing - 25);
    for (const gap of longRefusals.gaps) expect(gap).toBeLessThanOrEqual(longSpacing);
  });

  it("lets a refused campaign wake about once per call, within the limit", async () => {
    const window = { limit: 10, windowMs: 300 };
    const { limiters, logKey } = setup([window], 0.8);
    const history = recordHistory(logKey);
    const jobs = 40;
    let calls = 0;
    await Promise.all(
      Array.from({ length: jobs }, async (_, i) => {
        const limiter = limiters[i % 3] as RateLimiter;
        for (;;) {
          calls++;
          const result = await limiter.take(TENANT, "cancel", { campaign: true });
          if (result.ok) return;
          await sleep(result.waitMs);
        }
      }),
    );
    const scores = await history();
    expect(scores).toHaveLength(jobs);
    expect(maxInSpan(scores, paddedWindowMs(window.windowMs))).toBeLessThanOrEqual(8);
    // 8 admitted at once, 32 refused once each; a few extra wakes from timer jitter at most.
    expect(calls).toBeLessThanOrEqual(jobs + 32 + 8);
  });

  it("forgets queued tickets on resetTickets", async () => {
    const window = { limit: 1, windowMs: 1_000 };
    const { limiter } = setup([window], 1);
    expect((await limiter.take(TENANT, "cancel", { campaign: true })).ok).toBe(true);
    for (let i = 0; i < 20; i++) await limiter.take(TENANT, "cancel", { campaign: true });
    const queued = refused(await limiter.take(TENANT, "cancel", { campaign: true }));
    expect(queued.waitMs).toBeGreaterThan(paddedWindowMs(window.windowMs));
    await limiter.resetTickets(TENANT, "cancel");
    const fresh = refused(await limiter.take(TENANT, "cancel", { campaign: true }));
    expect(fresh.waitMs).toBeLessThanOrEqual(paddedWindowMs(window.windowMs));
  });

  it("lets idle keys expire and keeps every key under the prefix", async () => {
    const { prefix, limiter } = setup([{ limit: 2, windowMs: 100 }]);
    const admin = connections[3] as Redis;
    for (let i = 0; i < 2; i++) await limiter.take(TENANT, "cancel", { campaign: i === 0 });
    await limiter.take(TENANT, "cancel");
    await limiter.take(TENANT, "cancel", { campaign: true });
    const keys = await scanKeys(admin, prefix);
    expect(keys.sort()).toEqual(
      ["log", "log:campaign", "seq", "ticket:campaign", "ticket:urgent"].map(
        (s) => `${prefix}:rl:${TENANT}:cancel:${s}`,
      ),
    );
    for (const key of keys) expect(await admin.pttl(key)).toBeGreaterThan(0);
    await eventually(async () => (await scanKeys(admin, prefix)).length === 0, 1_500, 20);
  });
});
