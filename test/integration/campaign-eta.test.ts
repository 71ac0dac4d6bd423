/**
 * The campaign ETA reads the campaign calls already in the tenant's windows from the limiter's Redis
 * state (issue 13, part 4), so `status` and `campaign --wait` do not promise a burst the budget spent.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { Producer } from "../../jobs/producer.js";
import { createLimiter } from "../../shared/defender/defender-session.js";
import { CampaignStore } from "../../shared/redis/campaign-store.js";
import { keyPrefix } from "../../shared/redis/queues.js";
import { RateLimiterLog } from "../../shared/redis/rate-limiter-log.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";

const HOUR = 3_600_000;
let h: Harness | undefined;
let redis: Redis | undefined;
let producer: Producer | undefined;
afterEach(async () => {
  await producer?.close();
  redis?.disconnect();
  await h?.close();
  producer = undefined;
  h = undefined;
});

async function setup(limits: string) {
  h = await startHarness({ env: { MDE_RATE_LIMITS: limits, CAMPAIGN_BUDGET_SHARE: "1" } });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const limiter = createLimiter(h.config, redis);
  /** `n` calls taken on `endpoint` as a worker would, answered at once. */
  const spend = async (endpoint: "get" | "cancel" | "list", n: number, campaign: boolean) => {
    for (let i = 0; i < n; i++) {
      const taken = await limiter.take(TENANT, endpoint, { campaign });
      if (!taken.ok) throw new Error(`budget refused call ${i + 1}`);
      await taken.settle();
    }
  };
  return { harness: h, spend };
}

describe("campaign ETA on the limiter's state", () => {
  it("reads the ages of the tenant's campaign calls per endpoint, and no urgent call", async () => {
    const { harness, spend } = await setup("10/1h");
    await spend("cancel", 3, true);
    await spend("cancel", 2, false);
    await spend("list", 1, true);
    const log = new RateLimiterLog(redis as Redis, keyPrefix(harness.config));
    const ages = await log.campaignCallAges(TENANT, HOUR);
    expect(ages.cancel).toHaveLength(3);
    expect(ages.list).toHaveLength(1);
    expect(ages.get).toEqual([]);
    for (const age of [...ages.cancel, ...ages.list]) {
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(HOUR);
    }
    // Another tenant's calls are not this tenant's.
    const other = await log.campaignCallAges("99999999-8888-7777-6666-555555555555", HOUR);
    expect(other.cancel).toEqual([]);
  });

  it("status gives a campaign in progress its time left after the calls its budget already spent", async () => {
    const { harness, spend } = await setup("2/1h");
    producer = await Producer.open(harness.config, { env: harness.env });
    const ids = [harness.sim.store.add().id, harness.sim.store.add().id, harness.sim.store.add().id];
    await producer.startCampaign({ tenantId: TENANT, source: { ids, label: "test" }, comment: "x" });
    // No worker: three cancels left at 2 an hour. From an idle budget: two now, the third in an hour.
    const idle = (await producer.status()).campaigns[0];
    expect(idle).toMatchObject({ total: 3, done: 0 });
    expect(idle?.etaMs).toBe(HOUR);
    // Two campaign cancels just spent: the first of the three waits for their hour, the third for two.
    await spend("cancel", 2, true);
    const spent = (await producer.status()).campaigns[0]?.etaMs as number;
    expect(spent).toBeGreaterThan(1.9 * HOUR);
    expect(spent).toBeLessThanOrEqual(2 * HOUR);
  });

  it("counts no call for the actions a campaign's state check noted terminal", async () => {
    const { harness } = await setup("1/1h");
    producer = await Producer.open(harness.config, { env: harness.env });
    const ids = [harness.sim.store.add().id, harness.sim.store.add().id, harness.sim.store.add().id];
    // No check of its own here (it would spend the list budget of 1/1h): the note stands in for it.
    const { campaignId } = (await producer.startCampaign(
      { tenantId: TENANT, source: { ids, label: "test" }, comment: "x" },
      { lookUp: false },
    )) as { campaignId: string };
    expect((await producer.status()).campaigns[0]?.etaMs).toBe(2 * HOUR);
    const store = new CampaignStore(
      redis as Redis,
      keyPrefix(harness.config),
      harness.config.resultRetentionMs,
    );
    await store.noteSeenTerminal(campaignId, 2);
    expect(await store.get(campaignId)).toMatchObject({ seenTerminal: 2 });
    // One cancel left: it goes now.
    expect((await producer.status()).campaigns[0]?.etaMs).toBe(0);
  });
});
