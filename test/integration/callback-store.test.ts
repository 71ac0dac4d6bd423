import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Delivery, webhookId } from "../../shared/contract/callback-event.js";
import { CallbackStore } from "../../shared/redis/callback-store.js";
import { CampaignStore } from "../../shared/redis/campaign-store.js";
import { keyPrefix } from "../../shared/redis/queues.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";
import { sampleResult as result } from "../support/sample-result.js";

const URL_A = "https://hooks.example.com/a?sig=capability";
let prefix: string;
let redis: Redis;
let store: CallbackStore;
let campaigns: CampaignStore;

beforeEach(() => {
  prefix = uniquePrefix();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const config = { queuePrefix: prefix, cancelQueue: "mde-cancel", resultRetentionMs: 600_000 };
  store = new CallbackStore(redis, config);
  campaigns = new CampaignStore(redis, keyPrefix(config), config.resultRetentionMs);
});
afterEach(async () => {
  await store.close();
  redis.disconnect();
  await deleteKeys(prefix);
});

const deliveries = async () =>
  (await store.queue.getJobs(["waiting", "delayed", "prioritized"])).map((j) => ({
    id: j.id,
    data: j.data as Delivery,
  }));

describe("callback registrations and recorded deliveries", () => {
  it("webhook ids are stable, distinct per event, and free of '.' and ':'", () => {
    const id = webhookId("cancel.finished", "job.1:x");
    expect(id).toBe(webhookId("cancel.finished", "job.1:x"));
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(webhookId("campaign.finished", "job.1:x")).not.toBe(id);
    expect(webhookId("campaign.finished", "c", "2024-01-01")).not.toBe(
      webhookId("campaign.finished", "c", "2025-01-01"),
    );
  });

  it("records one delivery for a registered job, however often its result is published", async () => {
    await store.registerJob("job-1", URL_A);
    const r = result("job-1");
    expect(await store.recordResult(r)).toBe(true);
    expect(await store.recordResult(r)).toBe(true);
    const found = await deliveries();
    expect(found).toEqual([
      {
        id: webhookId("cancel.finished", "job-1"),
        data: { url: URL_A, type: "cancel.finished", timestamp: r.finishedAt, subject: "job-1", data: r },
      },
    ]);
    expect(await store.counts()).toEqual({ pending: 1, failed: 0 });
  });

  it("records nothing for a job without a callback", async () => {
    expect(await store.recordResult(result("job-2"))).toBe(false);
    expect(await deliveries()).toEqual([]);
  });

  it("a registration that comes after the job finished still gets its delivery, read later from the job", async () => {
    await store.recordResult(result("job-3"));
    await store.registerJob("job-3", URL_A);
    const [found] = await deliveries();
    expect(found?.data).toMatchObject({ url: URL_A, subject: "job-3", data: null });
    // The worker publishing again changes nothing.
    await store.recordResult(result("job-3"));
    expect(await deliveries()).toHaveLength(1);
  });

  it("drop removes the registration and the pending delivery; a later publish records nothing", async () => {
    await store.registerJob("job-4", URL_A);
    await store.recordResult(result("job-4"));
    expect(await store.drop("job-4")).toBe(true);
    expect(await deliveries()).toEqual([]);
    expect(await store.isDropped({ type: "cancel.finished", subject: "job-4" })).toBe(true);
    expect(await store.recordResult(result("job-4"))).toBe(false);
    expect(await deliveries()).toEqual([]);
    expect(await store.drop("job-never-registered")).toBe(false);
  });

  it("records campaign.finished once, when the last job finishes after every job was added", async () => {
    await campaigns.create("camp-1", { comment: "c", source: "test", priority: 1000 });
    expect(await store.registerCampaign("camp-1", URL_A)).toBe(true);
    await campaigns.addActions("camp-1", ["a1", "a2"]);
    const first = result("j1", { campaignId: "camp-1", machineActionId: "a1" });
    const last = result("j2", { campaignId: "camp-1", machineActionId: "a2" });
    // Still adding jobs: even a campaign whose jobs have all finished is not finished yet.
    expect(await campaigns.record(first)).toBeUndefined();
    expect(await campaigns.record(last)).toBeUndefined();
    const sealed = await campaigns.seal("camp-1");
    expect(sealed).toMatchObject({ callbackUrl: URL_A, summary: { id: "camp-1", total: 2, done: 2 } });
    await store.recordCampaign(sealed as NonNullable<typeof sealed>);
    // The last job published again (a worker crashed after publishing): answered finished again, recorded once.
    const again = await campaigns.record(last);
    expect(again?.callbackUrl).toBe(URL_A);
    await store.recordCampaign(again as NonNullable<typeof again>);
    const found = await deliveries();
    expect(found).toHaveLength(1);
    expect(found[0]?.data).toMatchObject({
      type: "campaign.finished",
      subject: "camp-1",
      data: { total: 2, done: 2 },
    });
    // The URL is kept with the record, never shown with it.
    expect(JSON.stringify(await campaigns.get("camp-1"))).not.toContain("hooks.example.com");
  });

  it("a sealed campaign finishes with its last job's record, and not before", async () => {
    await campaigns.create("camp-2", { comment: "c", source: "test", priority: 1000 });
    await campaigns.addActions("camp-2", ["b1", "b2"]);
    expect(await campaigns.seal("camp-2")).toBeUndefined();
    expect(
      await campaigns.record(result("k1", { campaignId: "camp-2", machineActionId: "b1" })),
    ).toBeUndefined();
    const finished = await campaigns.record(result("k2", { campaignId: "camp-2", machineActionId: "b2" }));
    expect(finished).toEqual({ summary: expect.objectContaining({ id: "camp-2", done: 2 }) });
    // No URL registered: nothing to deliver.
    expect(await store.recordCampaign(finished as NonNullable<typeof finished>)).toBe(false);
    expect(await deliveries()).toEqual([]);
    // A URL registered after the campaign finished gets its delivery at once, the summary with it.
    expect(await store.registerCampaign("camp-2", URL_A)).toBe(true);
    expect((await deliveries()).map((d) => d.data)).toEqual([
      expect.objectContaining({
        type: "campaign.finished",
        subject: "camp-2",
        data: expect.objectContaining({ done: 2 }),
      }),
    ]);
    expect(await store.registerCampaign("no-such-campaign", URL_A)).toBe(false);
  });
});
