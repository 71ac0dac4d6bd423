import { Queue } from "bullmq";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Producer } from "../../jobs/producer.js";
import { parseConfig } from "../../shared/config/config.js";
import { UsageError } from "../../shared/core/errors.js";
import { type Harness, newActionId, startHarness, TENANT } from "../support/harness.js";
import { type RedisGate, startRedisGate } from "../support/redis-gate.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
let producer: Producer | undefined;
let gate: RedisGate | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await producer?.close();
  await gate?.close();
  await h?.close();
  h = producer = gate = undefined;
});

async function open(options: Parameters<typeof startHarness>[0] = {}) {
  h = await startHarness(options);
  producer = await Producer.open(h.config);
  return { harness: h, producer };
}

describe("Producer", () => {
  it("enqueues for AZURE_TENANT_ID by default and shows the jobs, budget and open campaigns in status", async () => {
    const { harness, producer } = await open();
    const [single] = await producer.enqueue([{ machineActionId: harness.sim.store.add().id, comment: "x" }]);
    expect(single).toMatchObject({ tenantId: TENANT, added: true });
    const ids = [harness.sim.store.add().id, harness.sim.store.add().id];
    const started = await producer.startCampaign({
      tenantId: TENANT,
      source: { ids, label: "test" },
      comment: "bulk",
      campaignId: "two",
    });
    expect(started).toEqual({ campaignId: "two", added: 2, alreadyQueued: [] });

    const status = await producer.status();
    expect(Object.keys(status.jobs)).toEqual([harness.config.cancelQueue, ...harness.config.resultsQueues]);
    expect(status.jobs[harness.config.cancelQueue]).toMatchObject({ waiting: 1, prioritized: 2 });
    expect(status.budget.map((b) => `${b.tenantId} ${b.endpoint}`)).toEqual(
      ["get", "cancel", "list"].map((e) => `${TENANT} ${e}`),
    );
    expect(status.campaigns).toEqual([expect.objectContaining({ id: "two", total: 2, done: 0 })]);
  });

  it("resolves a filter, and enqueues nothing when the count is declined", async () => {
    const { harness, producer } = await open();
    const pending = [harness.sim.store.add().id, harness.sim.store.add().id];
    harness.sim.store.add({ status: "Succeeded" });
    const order = {
      tenantId: TENANT,
      source: { filter: "status eq 'Pending' or status eq 'Succeeded'", max: 10 },
      comment: "x",
    };
    const asked: number[] = [];
    const declined = await producer.startCampaign(order, {
      confirm: async (count) => {
        asked.push(count);
        return false;
      },
    });
    expect(declined).toBeUndefined();
    expect(asked).toEqual([2]);
    expect(await harness.cancelQueue.count()).toBe(0);

    const started = await producer.startCampaign(order, { confirm: async () => true });
    expect(started?.added).toBe(2);
    const jobs = await harness.cancelQueue.getJobs(["prioritized"]);
    expect(jobs.map((j) => j.data.machineActionId).sort()).toEqual(
      pending.map((id) => id.toLowerCase()).sort(),
    );
  });

  it("refuses a bad comment or name before a filter spends list budget", async () => {
    const { harness, producer } = await open();
    harness.sim.store.add();
    const start = producer.startCampaign({
      tenantId: TENANT,
      source: { filter: "status eq 'Pending'", max: 10 },
      comment: "",
      campaignId: "not/a/name",
    });
    await expect(start).rejects.toThrow(UsageError);
    await expect(start).rejects.toThrow(/--comment must not be empty; --name "not\/a\/name"/);
    expect(harness.sim.requests.filter((r) => r.endpoint === "list")).toHaveLength(0);
  });

  /** Queue.addBulk failing on its second call (the second 1,000 jobs): Redis froze, or its reply was lost. */
  function failSecondAddBulk(options: { afterRedisRanIt: boolean }) {
    const original = Queue.prototype.addBulk;
    let calls = 0;
    return vi.spyOn(Queue.prototype, "addBulk").mockImplementation(async function (this: Queue, jobs) {
      calls += 1;
      if (calls !== 2) return original.call(this, jobs);
      if (options.afterRedisRanIt) await original.call(this, jobs);
      throw new Error("Command timed out");
    });
  }

  it("counts only the jobs added when adding fails part-way; the same start then adds the rest", async () => {
    const { harness, producer } = await open();
    const ids = Array.from({ length: 1500 }, () => newActionId());
    const order = { tenantId: TENANT, source: { ids, label: "test" }, comment: "x", campaignId: "part" };
    const fault = failSecondAddBulk({ afterRedisRanIt: false });
    await expect(producer.startCampaign(order)).rejects.toThrow(
      /^Campaign part stopped part-way with 1000 job\(s\) added: Redis stopped answering .* --name part to add the rest\.$/,
    );
    fault.mockRestore();
    expect(await producer.campaign("part")).toMatchObject({ total: 1000, done: 0 });
    expect(await harness.cancelQueue.count()).toBe(1000);

    expect(await producer.startCampaign(order)).toEqual({
      campaignId: "part",
      added: 500,
      alreadyQueued: [],
    });
    expect(await producer.campaign("part")).toMatchObject({ total: 1500 });
    expect(await harness.cancelQueue.count()).toBe(1500);
    // Started whole: the id is taken now.
    await expect(producer.startCampaign(order)).rejects.toThrow(/Campaign part already exists/);
  });

  it("keeps the actions whose jobs Redis added before the reply was lost", async () => {
    const { harness, producer } = await open();
    const ids = Array.from({ length: 1500 }, () => newActionId());
    const order = { tenantId: TENANT, source: { ids, label: "test" }, comment: "x", campaignId: "lost" };
    const fault = failSecondAddBulk({ afterRedisRanIt: true });
    await expect(producer.startCampaign(order)).rejects.toThrow(/stopped part-way/);
    fault.mockRestore();
    expect(await producer.campaign("lost")).toMatchObject({ total: 1500 });
    // Running it again adds nothing: every action already has its campaign job.
    expect(await producer.startCampaign(order)).toEqual({ campaignId: "lost", added: 0, alreadyQueued: [] });
    expect(await producer.campaign("lost")).toMatchObject({ total: 1500 });
    expect(await harness.cancelQueue.count()).toBe(1500);
  });

  it("refuses to replay a campaign it does not keep", async () => {
    const { producer } = await open();
    const replay = producer.startCampaign({
      tenantId: TENANT,
      source: { retryFailed: "nope" },
      comment: "x",
    });
    await expect(replay).rejects.toThrow(UsageError);
    await expect(replay).rejects.toThrow(/No campaign nope is kept in Redis/);
  });

  it("waits for a campaign until it is done, or until the signal aborts", async () => {
    const { harness, producer } = await open();
    const ids = [harness.sim.store.add().id, harness.sim.store.add().id];
    const { campaignId } = await producer.startCampaign({
      tenantId: TENANT,
      source: { ids, label: "test" },
      comment: "x",
    });
    const stop = new AbortController();
    stop.abort();
    expect(await producer.waitForCampaign(campaignId, { signal: stop.signal })).toBeUndefined();

    await harness.startWorker();
    const record = await producer.waitForCampaign(campaignId, { intervalMs: 100 });
    expect(record).toMatchObject({ total: 2, done: 2, counts: { cancelled: 2 } });
    expect(await producer.campaign(campaignId)).toEqual(record);
    const results = await producer.results({ campaignId });
    expect(results.map((r) => r.machineActionId).sort()).toEqual(ids.sort());
  });

  it("fails a call when Redis goes away under it, without BullMQ printing a stack", async () => {
    h = await startHarness();
    const redis = await startRedisGate({ open: true });
    gate = redis;
    producer = await Producer.open(parseConfig({ ...h.env, REDIS_URL: redis.url }));
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    await producer.status();
    redis.reset();
    await expect(producer.status()).rejects.toThrow();
    // A second connection attempt comes only after the first one's error was emitted.
    await waitFor("the client to try Redis again", () => redis.refused() >= 2);
    expect(printed).not.toHaveBeenCalled();
  });
});
