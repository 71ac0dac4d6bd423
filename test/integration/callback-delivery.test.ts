import { Writable } from "node:stream";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import type { AttemptResult } from "../../intake/callbacks/callback-metrics.js";
import { DeliveryWorker } from "../../intake/callbacks/delivery-worker.js";
import type { RetrySchedule } from "../../intake/callbacks/retry-schedule.js";
import { webhookId } from "../../shared/contract/callback-event.js";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import { createLogger } from "../../shared/core/logger.js";
import { CallbackStore } from "../../shared/redis/callback-store.js";
import { startScript } from "../support/cli.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";
import { sampleResult as result } from "../support/sample-result.js";
import { waitFor } from "../support/wait.js";
import { newWebhookSecret, type Receiver, startReceiver } from "../support/webhook-receiver.js";

// Retries 2 s apart: short for a test, and far enough apart that each attempt has its own
// webhook-timestamp (whole seconds). The real schedule is tested whole in test/unit/retry-schedule.test.ts.
const FAST: RetrySchedule = { offsetsMs: [2_000, 4_000, 6_000], jitter: 0 };
const SECRET = newWebhookSecret();

let prefix: string;
let redis: Redis;
let store: CallbackStore;
let receivers: Receiver[];
let workers: DeliveryWorker[];
let logs: string[];
let attempts: AttemptResult[];
const config = () => ({ queuePrefix: prefix, cancelQueue: "mde-cancel", resultRetentionMs: 600_000 });

beforeEach(() => {
  prefix = uniquePrefix();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  store = new CallbackStore(redis, config());
  receivers = [];
  workers = [];
  logs = [];
  attempts = [];
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(receivers.map((r) => r.close()));
  await store.close();
  redis.disconnect();
  await deleteKeys(prefix);
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

function deliveryWorker(
  options: Partial<ConstructorParameters<typeof DeliveryWorker>[0]> = {},
): Promise<DeliveryWorker> {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const worker = new DeliveryWorker({
    connection: redis,
    config: config(),
    secret: SECRET,
    allowedHosts: receivers.map((r) => `127.0.0.1:${r.port}`),
    logger: createLogger("debug", sink),
    schedule: FAST,
    hooks: { onAttempt: (result) => attempts.push(result) },
    ...options,
  });
  workers.push(worker);
  return worker.ready();
}

/** Registers `url` for a job and records its result, as the intake and the worker do. */
async function recordDelivery(
  url: string,
): Promise<{ jobId: string; result: CancelResult; job: () => Promise<Job | undefined> }> {
  const jobId = crypto.randomUUID();
  const r = result(jobId);
  await store.registerJob(jobId, url);
  await store.recordResult(r);
  return { jobId, result: r, job: () => store.queue.getJob(webhookId("cancel.finished", jobId)) };
}

describe("callback delivery (serve's side), over HTTPS to loopback receivers", () => {
  it("retries a failed delivery: same webhook-id, a fresh timestamp and signature, both verified", async () => {
    const hook = await receiver(SECRET, [{ status: 500 }, { status: 200 }]);
    await deliveryWorker();
    const { jobId, result: r, job } = await recordDelivery(hook.url);

    await waitFor("the retry", () => hook.received.length >= 2);
    const [first, second] = hook.received;
    for (const got of [first, second]) {
      expect(got?.verifyError).toBeUndefined();
      expect(got?.verified).toEqual({ type: "cancel.finished", timestamp: r.finishedAt, data: r });
      expect(got?.path).toBe("/hooks/mde?sig=capability-token");
    }
    expect(first?.headers["webhook-id"]).toBe(webhookId("cancel.finished", jobId));
    expect(second?.headers["webhook-id"]).toBe(first?.headers["webhook-id"]);
    expect(second?.headers["webhook-timestamp"]).not.toBe(first?.headers["webhook-timestamp"]);
    expect(second?.headers["webhook-signature"]).not.toBe(first?.headers["webhook-signature"]);
    expect(second?.body).toBe(first?.body);

    const done = await waitFor("the delivery to complete", async () =>
      (await (await job())?.isCompleted()) ? job() : undefined,
    );
    expect(done?.returnvalue).toEqual({ status: 200, attempts: 2 });
    expect(attempts).toEqual(["retrying", "delivered"]);
    // Logs name the receiver's origin, never the URL's capability token.
    expect(logs.join("")).toContain(`https://127.0.0.1:${hook.port}`);
    expect(logs.join("")).not.toContain("capability-token");
  });

  it("a pending delivery survives a restart of the delivery worker", async () => {
    const hook = await receiver(SECRET, [{ status: 503 }, { status: 200 }]);
    const first = await deliveryWorker();
    const { job } = await recordDelivery(hook.url);
    await waitFor(
      "the first attempt",
      async () => hook.received.length === 1 && (await (await job())?.isDelayed()),
    );
    await first.close();

    await deliveryWorker();
    await waitFor("the retry after the restart", () => hook.received.length === 2);
    expect(hook.received[1]?.verifyError).toBeUndefined();
    expect(hook.received[1]?.headers["webhook-id"]).toBe(hook.received[0]?.headers["webhook-id"]);
    await waitFor("the delivery to complete", async () => (await job())?.isCompleted());
  });

  it("stops at 410 Gone: one attempt, counted failed, shown in the counts", async () => {
    const hook = await receiver(SECRET, [{ status: 410 }]);
    await deliveryWorker();
    const { job } = await recordDelivery(hook.url);
    const failed = await waitFor("the delivery to fail", async () =>
      (await (await job())?.isFailed()) ? job() : undefined,
    );
    expect(failed?.failedReason).toMatch(/^gone after 1 attempts: the receiver answered 410/);
    expect(hook.received).toHaveLength(1);
    expect(attempts).toEqual(["failed"]);
    expect(await store.counts()).toEqual({ pending: 0, failed: 1 });
  });

  it("refuses unlisted loopback targets at each delivery, without connecting", async () => {
    const listed = await receiver(SECRET);
    const otherPort = await receiver(SECRET);
    const otherAddress = await receiver(SECRET, [{ status: 200 }], "127.0.0.2");
    await deliveryWorker({ allowedHosts: [`127.0.0.1:${listed.port}`] });
    const targets = [
      `https://127.0.0.1:${otherPort.port}/cb`,
      `https://127.0.0.2:${otherAddress.port}/cb`,
      `https://[::1]:${listed.port}/cb`,
      `https://localhost:${listed.port}/cb`,
    ];
    const jobs = await Promise.all(targets.map((url) => recordDelivery(url)));
    for (const { job } of jobs) {
      const failed = await waitFor("the refusal", async () =>
        (await (await job())?.isFailed()) ? job() : undefined,
      );
      expect(failed?.failedReason).toMatch(
        /^refused after 1 attempts: callbackUrl host .* resolves to .*, a loopback address/,
      );
    }
    expect([listed, otherPort, otherAddress].map((r) => r.received.length)).toEqual([0, 0, 0]);
  });

  it("connects to the address the guard checked, never looking the name up again", async () => {
    // The name resolves (for the guard) to 127.0.0.3, where the receiver listens; the system's own
    // lookup of localhost would have given 127.0.0.1, where nothing listens on that port.
    const hook = await receiver(SECRET, [{ status: 204 }], "127.0.0.3");
    const asked: string[] = [];
    await deliveryWorker({
      allowedHosts: [`localhost:${hook.port}`],
      resolve: async (name) => {
        asked.push(name);
        return [{ address: "127.0.0.3", family: 4 }];
      },
    });
    await recordDelivery(`https://localhost:${hook.port}/cb`);
    await waitFor("the delivery", () => hook.received.length === 1);
    expect(hook.received[0]?.host).toBe(`localhost:${hook.port}`);
    expect(hook.received[0]?.verifyError).toBeUndefined();
    expect(asked).toEqual(["localhost"]);
  });

  it("a dropped callback is not delivered again", async () => {
    const hook = await receiver(SECRET, [{ status: 500 }, { status: 200 }]);
    await deliveryWorker();
    const { jobId, job } = await recordDelivery(hook.url);
    await waitFor(
      "the first attempt",
      async () => hook.received.length === 1 && (await (await job())?.isDelayed()),
    );
    expect(await store.drop(jobId)).toBe(true);
    expect(await job()).toBeUndefined();
    // A worker publishing the result again (after a crash) records nothing either.
    expect(await store.recordResult(result(jobId))).toBe(false);
    expect(await store.counts()).toEqual({ pending: 0, failed: 0 });
    expect(hook.received).toHaveLength(1);
  });

  it("the example receiver verifies each delivery, acts once per webhook-id and refuses a forgery", async () => {
    const port = await freePort();
    const example = startScript("examples/webhook-receiver.ts", [String(port)], { WEBHOOK_SECRET: SECRET });
    const output = { stdout: "", stderr: "" };
    example.stdout?.on("data", (chunk) => {
      output.stdout += chunk;
    });
    example.stderr?.on("data", (chunk) => {
      output.stderr += chunk;
    });
    try {
      await waitFor("the example to listen", () => output.stdout.includes("listening"));
      await deliveryWorker({ allowedHosts: [`127.0.0.1:${port}`] });
      const { result: r } = await recordDelivery(`http://127.0.0.1:${port}/mde`);
      await waitFor("the example to act", () =>
        output.stdout.includes(`cancel.finished ${r.machineActionId}: cancelled`),
      );

      // The same delivery again (at least once) is acknowledged, not acted on twice.
      const body = JSON.stringify({ type: "cancel.finished", timestamp: r.finishedAt, data: r });
      const id = webhookId("cancel.finished", r.jobId);
      const signed = (secret: string) => ({
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": new Webhook(secret).sign(id, new Date(), body),
      });
      const post = (headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/mde`, { method: "POST", headers, body });
      expect((await post(signed(SECRET))).status).toBe(204);
      expect((await post(signed(newWebhookSecret()))).status).toBe(401);
      expect(output.stdout.split(r.machineActionId as string)).toHaveLength(2);
      await waitFor("the refusal on stderr", () => output.stderr.includes("refused a delivery"));
    } finally {
      example.kill("SIGTERM");
    }
  });
});
