import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { clearStaleTickets } from "../../jobs/campaign.js";
import { RateLimiter } from "../../shared/redis/rate-limiter.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
let prefix: string;
afterEach(async () => {
  await deleteKeys(prefix);
});

describe("clearStaleTickets", () => {
  it("lets the next campaign's refused jobs wake with the budget, not behind tickets nobody holds", async () => {
    prefix = uniquePrefix();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue("cancel", { connection: redis, prefix });
    const limiter = new RateLimiter(redis, {
      prefix: `${prefix}:cancel`,
      windows: [{ limit: 2, windowMs: 1_000 }],
      campaignShare: 1,
    });
    try {
      // A campaign of 50 refused jobs took tickets far ahead, then was removed by hand.
      let last = 0;
      for (let i = 0; i < 52; i++) {
        const taken = await limiter.take(TENANT, "get", { campaign: true });
        if (!taken.ok) last = taken.waitMs;
      }
      expect(last).toBeGreaterThan(20_000);

      await queue.add("cancel", {}, { delay: 60_000 });
      expect(await clearStaleTickets(queue, limiter, TENANT)).toBe(false); // a job still waits: keep them
      await queue.obliterate({ force: true });
      expect(await clearStaleTickets(queue, limiter, TENANT)).toBe(true);

      const next = await limiter.take(TENANT, "get", { campaign: true });
      expect(next.ok).toBe(false);
      expect(next.ok === false && next.waitMs).toBeLessThanOrEqual(1_600); // one padded window
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});
