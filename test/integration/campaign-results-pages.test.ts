import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import { CampaignStore } from "../../shared/redis/campaign-store.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL);
afterEach(async () => {
  await deleteKeys(prefix);
});
afterAll(() => redis.disconnect());

describe("CampaignStore.finishedJobs (GET /v1/campaigns/<id>/results pages)", () => {
  it("pages through every finished job of a large campaign, then says there is no next page", async () => {
    const store = new CampaignStore(redis, prefix, 60_000);
    await store.create("big", {
      comment: "x",
      source: "test",
      priority: 1000,
      tenantId: crypto.randomUUID(),
    });
    const actions = Array.from({ length: 300 }, () => crypto.randomUUID());
    await store.addActions("big", actions);
    for (const [i, machineActionId] of actions.entries())
      await store.record({
        jobId: `job-${i}`,
        machineActionId,
        campaignId: "big",
        outcome: "cancelled",
      } as CancelResult);

    const seen = new Set<string>();
    let cursor = "0";
    let pages = 0;
    for (;;) {
      const page = await store.finishedJobs("big", cursor, 50);
      for (const id of page.jobIds) seen.add(id);
      pages += 1;
      if (page.next === null) break;
      cursor = page.next;
    }
    expect(seen.size).toBe(300);
    // 300 members are past Redis's compact set encoding: SSCAN really pages.
    expect(pages).toBeGreaterThan(2);
    expect((await store.get("big"))?.tenantId).toEqual(expect.any(String));
  });
});
