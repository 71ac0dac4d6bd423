import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { DeliveryWorker } from "../../intake/callbacks/delivery-worker.js";
import { Producer } from "../../jobs/producer.js";
import { webhookId } from "../../shared/contract/callback-event.js";
import { createLogger } from "../../shared/core/logger.js";
import { ResultPublisher } from "../../worker/result-publisher.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { waitFor } from "../support/wait.js";
import { newWebhookSecret, type Receiver, startReceiver } from "../support/webhook-receiver.js";

const SECRET = newWebhookSecret();
let h: Harness | undefined;
let producer: Producer | undefined;
let delivery: DeliveryWorker | undefined;
let receiver: Receiver | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  await delivery?.close();
  await producer?.close();
  await receiver?.close();
  redis?.disconnect();
  await h?.close();
  h = producer = delivery = receiver = redis = undefined;
});

/** The worker and simulator of the harness, a producer as the intake holds one, serve's delivery worker, a receiver. */
async function start() {
  h = await startHarness();
  receiver = await startReceiver(SECRET);
  producer = await Producer.open(h.config);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  delivery = await new DeliveryWorker({
    connection: redis,
    config: h.config,
    secret: SECRET,
    allowedHosts: [`127.0.0.1:${receiver.port}`],
    logger: createLogger("silent"),
  }).ready();
  return { h, producer, receiver };
}

const events = (r: Receiver, type: string) =>
  r.received.filter((got) => (got.verified as { type?: string } | undefined)?.type === type);

describe("callbacks from the worker's results to a receiver", () => {
  it("a cancel's callback carries its result; a campaign's arrives once, when its last job finished", async () => {
    const { h, producer, receiver } = await start();
    const urgent = h.sim.store.add({ status: "Pending" }).id;
    const [single] = await producer.enqueue([{ machineActionId: urgent, comment: "stop" }]);
    await producer.callbacks.registerJob(single?.jobId as string, receiver.url);
    const ids = [h.sim.store.add({ status: "Pending" }).id, h.sim.store.add({ status: "Succeeded" }).id];
    const started = await producer.startCampaign({
      tenantId: TENANT,
      source: { ids, label: "test" },
      comment: "sweep",
      campaignId: "sweep-1",
    });
    await producer.callbacks.registerCampaign(started.campaignId, receiver.url);
    await h.startWorker();

    await waitFor("both callbacks", () => receiver.received.length >= 2);
    expect(receiver.received.every((got) => got.verifyError === undefined)).toBe(true);
    const [cancel] = events(receiver, "cancel.finished");
    expect(cancel?.verified).toMatchObject({
      type: "cancel.finished",
      data: { jobId: single?.jobId, machineActionId: urgent, outcome: "cancelled" },
    });
    const [campaign] = events(receiver, "campaign.finished");
    const record = await producer.campaign("sweep-1");
    expect(campaign?.headers["webhook-id"]).toBe(
      webhookId("campaign.finished", "sweep-1", record?.createdAt),
    );
    expect(campaign?.verified).toMatchObject({
      type: "campaign.finished",
      data: { id: started.campaignId, total: 2, done: 2, counts: { cancelled: 1, already_terminal: 1 } },
    });

    // A worker publishing a campaign job's result again (after a crash) records nothing new.
    const [again] = (await h.cancelQueue.getJobs(["completed"])).filter(
      (j) => j.data.campaignId === "sweep-1",
    );
    const publisher = new ResultPublisher(redis as Redis, h.config);
    await publisher.publish(again?.returnvalue);
    await publisher.close();
    const counts = await producer.callbacks.queue.getJobCounts();
    expect(counts).toMatchObject({ completed: 2, waiting: 0, delayed: 0, active: 0, failed: 0 });
    expect(events(receiver, "campaign.finished")).toHaveLength(1);
    expect((await producer.status()).callbacks).toEqual({ pending: 0, failed: 0 });
  });

  it("a callback registered after its job finished is delivered with the job's result", async () => {
    const { h, producer, receiver } = await start();
    await h.startWorker();
    const [job] = await producer.enqueue([
      { machineActionId: h.sim.store.add({ status: "Pending" }).id, comment: "x" },
    ]);
    const [result] = await h.results(1);
    await producer.callbacks.registerJob(job?.jobId as string, receiver.url);
    await waitFor("the late callback", () => receiver.received.length === 1);
    expect(receiver.received[0]?.verified).toEqual({
      type: "cancel.finished",
      timestamp: result?.finishedAt,
      data: result,
    });
  });
});
