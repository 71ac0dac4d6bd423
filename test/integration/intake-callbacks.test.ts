import { Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { webhookId } from "../../shared/contract/callback-event.js";
import { callbacksQueueName } from "../../shared/redis/queues.js";
import { runCli } from "../support/cli.js";
import { type Harness, startHarness } from "../support/harness.js";
import { type Answer, startTestIntake, type TestIntake } from "../support/intake.js";
import { waitFor } from "../support/wait.js";
import { newWebhookSecret, type Receiver, startReceiver } from "../support/webhook-receiver.js";

/**
 * Everything real: the simulator, a worker, `serve` (startIntake, as the command runs it) and an
 * HTTPS receiver on 127.0.0.1 listed in INTAKE_CALLBACK_HOSTS, verifying each callback with
 * `standardwebhooks` as a playbook's endpoint would.
 */

const SECRET = newWebhookSecret();
let h: Harness | undefined;
let intakes: TestIntake[] = [];
let receivers: Receiver[] = [];
afterEach(async () => {
  for (const intake of intakes) await intake.close();
  await Promise.all(receivers.map((r) => r.close()));
  await h?.close();
  h = undefined;
  intakes = [];
  receivers = [];
});

async function receiver(port = 0): Promise<Receiver> {
  const r = await startReceiver(SECRET, [{ status: 200 }], "127.0.0.1", port);
  receivers.push(r);
  return r;
}

/** `serve` with the webhook secret, allowing the receiver's host and port only. */
async function serve(harness: Harness, receiverPort: number): Promise<TestIntake> {
  const intake = await startTestIntake({
    env: {
      ...harness.env,
      INTAKE_WEBHOOK_SECRET: SECRET,
      INTAKE_CALLBACK_HOSTS: `127.0.0.1:${receiverPort}`,
    },
  });
  intakes.push(intake);
  return intake;
}

const events = (r: Receiver, type: string) =>
  r.received.filter((got) => (got.verified as { type?: string } | undefined)?.type === type);

async function finished(intake: TestIntake, key: string, jobId: string): Promise<Answer> {
  return waitFor(`job ${jobId} to finish`, async () => {
    const answer = await intake.call("GET", `/v1/cancels/${jobId}`, { key });
    return answer.status === 200 ? answer : undefined;
  });
}

/** Every delivery ever recorded, by state (completed ones included). */
async function deliveries(intake: TestIntake): Promise<Record<string, number>> {
  const queue = new Queue(callbacksQueueName(intake.config), {
    connection: intake.redis,
    prefix: intake.config.queuePrefix,
  });
  try {
    return await queue.getJobCounts("waiting", "prioritized", "delayed", "active", "completed", "failed");
  } finally {
    await queue.close();
  }
}

/** What `mde-cancel status --json` says of callbacks. */
async function callbackCounts(harness: Harness): Promise<{ pending: number; failed: number }> {
  const run = await runCli(["status", "--json"], harness.env);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout).callbacks;
}

describe("serve sends the callbacks of what was asked over HTTP", () => {
  it("POST /v1/cancels and /v1/campaigns with callbackUrl: one verified event each, with the result", async () => {
    h = await startHarness();
    const r = await receiver();
    const intake = await serve(h, r.port);
    await h.startWorker();
    const key = await intake.newKey({ name: "logic-app" });
    const single = await intake.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId: h.sim.store.add().id, comment: "stop", callbackUrl: r.url },
    });
    expect(single.status).toBe(202);
    const ids = [h.sim.store.add().id, h.sim.store.add({ status: "Succeeded" }).id];
    const campaign = await intake.call("POST", "/v1/campaigns", {
      key,
      body: { machineActionIds: ids, comment: "sweep", name: "sweep-7", callbackUrl: r.url },
    });
    expect(campaign.status).toBe(202);

    await waitFor("both callbacks", () => r.received.length >= 2);
    const polled = await finished(intake, key, single.body.jobId);
    expect(r.received.map((got) => got.verifyError)).toEqual([undefined, undefined]);
    expect(events(r, "cancel.finished").map((got) => got.verified)).toEqual([
      { type: "cancel.finished", timestamp: polled.body.result.finishedAt, data: polled.body.result },
    ]);
    expect(polled.body.result).toMatchObject({ outcome: "cancelled", requestedBy: "api-key:logic-app" });
    const [done] = events(r, "campaign.finished");
    expect(done?.verified).toMatchObject({
      data: { id: "sweep-7", total: 2, done: 2, counts: { cancelled: 1, already_terminal: 1 } },
    });
    expect(done?.path).toBe("/hooks/mde?sig=capability-token");

    // Nothing else is on its way: each event was recorded once and delivered once.
    expect(await deliveries(intake)).toMatchObject({ completed: 2, waiting: 0, delayed: 0, failed: 0 });
    expect(r.received).toHaveLength(2);
    const metrics = await fetch(`${intake.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^mde_callback_attempts_total\{type="cancel.finished",result="delivered"\} 1$/m);
    expect(text).toMatch(/^mde_callback_attempts_total\{type="campaign.finished",result="delivered"\} 1$/m);
  });

  it("DELETE .../callback: no delivery, and the cancel still finishes", async () => {
    h = await startHarness();
    const r = await receiver();
    const intake = await serve(h, r.port);
    const key = await intake.newKey();
    const posted = await intake.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId: h.sim.store.add().id, comment: "stop", callbackUrl: r.url },
    });
    expect(posted.status).toBe(202);
    const dropped = await intake.call("DELETE", `/v1/cancels/${posted.body.jobId}/callback`, { key });
    expect(dropped.status).toBe(204);

    const worker = await h.startWorker();
    const done = await finished(intake, key, posted.body.jobId);
    expect(done.body.result.outcome).toBe("cancelled");
    // A stopped worker has finished every publish, callbacks included: none was recorded.
    await worker.stop();
    expect(Object.values(await deliveries(intake)).every((n) => n === 0)).toBe(true);
    expect(r.received).toEqual([]);
  });

  it("a delivery pending when serve restarts (the receiver down, then up) is delivered by the next serve", async () => {
    h = await startHarness();
    const port = await freePort();
    const first = await serve(h, port);
    await h.startWorker();
    const key = await first.newKey();
    const url = `https://127.0.0.1:${port}/hooks/mde`;
    const posted = await first.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId: h.sim.store.add().id, comment: "stop", callbackUrl: url },
    });
    const result = (await finished(first, key, posted.body.jobId)).body.result;
    // Nothing listens on the port: the first attempt fails and is put back for its retry.
    await waitFor("the failed attempt", async () =>
      /result="retrying"\} 1$/m.test(await (await fetch(`${first.url}/metrics`)).text()),
    );
    expect(await callbackCounts(h)).toEqual({ pending: 1, failed: 0 });
    await first.close();

    const r = await receiver(port);
    await serve(h, port);
    // The first retry is due within 30 s of the first attempt (test/unit/retry-schedule.test.ts).
    await waitFor("the retried delivery", () => r.received.length === 1, 45_000);
    const [got] = r.received;
    expect(got?.verifyError).toBeUndefined();
    expect(got?.headers["webhook-id"]).toBe(webhookId("cancel.finished", posted.body.jobId));
    expect(got?.verified).toEqual({ type: "cancel.finished", timestamp: result.finishedAt, data: result });
    await waitFor("no delivery pending", async () => (await callbackCounts(h as Harness)).pending === 0);
  });
});
