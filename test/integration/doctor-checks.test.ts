/**
 * doctor's pieces that need real Redis: the list budget it waits for (at most its deadline,
 * through the shared limiter) and the Redis check when CONFIG is refused.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRedis } from "../../jobs/doctor/redis-check.js";
import { WaitingBudget } from "../../jobs/doctor/waiting-budget.js";
import { parseConfig } from "../../shared/config/config.js";
import { RateLimiter } from "../../shared/redis/rate-limiter.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";
import { redisServer } from "../support/redis-server.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const prefix = uniquePrefix();
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
});

/** A limiter of one list call per `windowMs` whose only call is already spent (and answered). */
async function spentLimiter(name: string, windowMs: number): Promise<RateLimiter> {
  const limiter = new RateLimiter(redis, {
    prefix: `${prefix}:${name}`,
    windows: [{ limit: 1, windowMs }],
    campaignShare: 0.8,
  });
  const taken = await limiter.take(TENANT, "list");
  expect(taken.ok).toBe(true);
  if (taken.ok) await taken.settle();
  return limiter;
}

describe("doctor's list budget", () => {
  it("waits for budget that frees before the deadline, then takes it", async () => {
    const limiter = await spentLimiter("frees", 1_500);
    const budget = new WaitingBudget(limiter, 10_000);
    const started = Date.now();
    expect(await budget.take(TENANT, "list")).toMatchObject({ ok: true });
    // The spent call holds its window (1.5 s from its answer) before another fits.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(budget.refusal).toBeUndefined();
    // The budget it waited for is now spent: the next caller is refused.
    expect((await limiter.take(TENANT, "list")).ok).toBe(false);
  });

  it("answers at once, without waiting, when the budget frees only after the deadline", async () => {
    const limiter = await spentLimiter("spent", 3_600_000);
    const budget = new WaitingBudget(limiter, 10_000);
    const started = Date.now();
    const taken = await budget.take(TENANT, "list");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(taken).toMatchObject({ ok: false, reason: "budget" });
    expect(budget.refusal?.waitMs).toBeGreaterThan(3_500_000);
    expect((await limiter.status(TENANT, "list")).windows[0]?.used).toBe(1);
  });

  it("tells a 429 pause from a spent budget", async () => {
    const limiter = new RateLimiter(redis, {
      prefix: `${prefix}:paused`,
      windows: [{ limit: 100, windowMs: 60_000 }],
      campaignShare: 0.8,
    });
    await limiter.pause(TENANT, "list", 60_000);
    const budget = new WaitingBudget(limiter, 10_000);
    expect(await budget.take(TENANT, "list")).toMatchObject({ ok: false, reason: "paused" });
  });
});

describe("doctor's Redis check", () => {
  it("passes a Redis that refuses CONFIG, saying to check the policy by hand", async () => {
    const server = await redisServer([
      "--rename-command",
      "CONFIG",
      '""',
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    try {
      const config = parseConfig({ REDIS_URL: server.url, QUEUE_PREFIX: prefix });
      const { report, redis: opened } = await checkRedis(config);
      opened?.disconnect();
      expect(report).toMatchObject({
        status: "ok",
        summary: "ok, maxmemory-policy unreadable (CONFIG refused)",
      });
      expect(report.maxmemoryPolicy).toBeUndefined();
      expect(report.fix).toContain("noeviction");
    } finally {
      await server.shutdown();
    }
  });
});
