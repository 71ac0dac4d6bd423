import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditTrailSink } from "../../intake/audit-sink.js";
import { GuardedCallbackRegistry } from "../../intake/callbacks/guarded-registry.js";
import { webhookId } from "../../shared/contract/callback-event.js";
import { AuditLog, type AuditRecord } from "../../shared/redis/audit-log.js";
import { CallbackStore } from "../../shared/redis/callback-store.js";
import { CampaignStore } from "../../shared/redis/campaign-store.js";
import { keyPrefix } from "../../shared/redis/queues.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";
import { sampleResult } from "../support/sample-result.js";
import { newWebhookSecret } from "../support/webhook-receiver.js";

let prefix: string;
let redis: Redis;
let store: CallbackStore;
const config = () => ({ queuePrefix: prefix, cancelQueue: "mde-cancel", resultRetentionMs: 600_000 });

beforeEach(() => {
  prefix = uniquePrefix();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  store = new CallbackStore(redis, config());
});
afterEach(async () => {
  await store.close();
  redis.disconnect();
  await deleteKeys(prefix);
});

// Decisions only: the resolver is the test's, and nothing is sent anywhere.
const resolve = async (host: string) => [
  { address: host === "intranet.example.com" ? "10.1.2.3" : "93.184.215.14", family: 4 as const },
];

describe("the intake's callback port", () => {
  it("refuses every callbackUrl without INTAKE_WEBHOOK_SECRET, and what the guard refuses with it", async () => {
    const unsigned = new GuardedCallbackRegistry({ allowedHosts: [], callbacks: store, resolve });
    expect(await unsigned.check("https://hooks.example.com/a")).toMatch(
      /^cannot be used: .*INTAKE_WEBHOOK_SECRET/,
    );
    const registry = new GuardedCallbackRegistry({
      secret: newWebhookSecret(),
      allowedHosts: [],
      callbacks: store,
      resolve,
    });
    expect(await registry.check("https://hooks.example.com/a")).toBeUndefined();
    expect(await registry.check("https://intranet.example.com/a")).toBe(
      "host intranet.example.com resolves to 10.1.2.3, a private address; list intranet.example.com in INTAKE_CALLBACK_HOSTS to allow it",
    );
    expect(await registry.check("http://hooks.example.com/a")).toMatch(/^must be https:\/\//);
  });

  it("registers jobs and campaigns, and drops a job's callback", async () => {
    const registry = new GuardedCallbackRegistry({
      secret: newWebhookSecret(),
      allowedHosts: [],
      callbacks: store,
      resolve,
    });
    await registry.register({ jobId: "job-1" }, "https://hooks.example.com/a");
    await store.recordResult(sampleResult("job-1"));
    expect(await store.queue.getJob(webhookId("cancel.finished", "job-1"))).toBeDefined();
    expect(await registry.drop("job-1")).toBe(true);
    expect(await store.queue.getJob(webhookId("cancel.finished", "job-1"))).toBeUndefined();

    const campaigns = new CampaignStore(redis, keyPrefix(config()), 600_000);
    await campaigns.create("c-1", { comment: "c", source: "test", priority: 1000 });
    await campaigns.seal("c-1");
    // An empty campaign has finished the moment it was sealed: the registration records it at once.
    await registry.register({ campaignId: "c-1" }, "https://hooks.example.com/b");
    expect((await store.queue.getJobs(["waiting"])).map((j) => j.data.type)).toEqual(["campaign.finished"]);
  });
});

describe("the intake's audit port", () => {
  it("writes accepted requests and refusals to the audit trail, with the key's name only", async () => {
    const log = new AuditLog(redis, keyPrefix(config()), 86_400_000);
    const sink = auditTrailSink(log);
    const post = {
      method: "POST",
      route: "/v1/cancels",
      requestedBy: "api-key:soar",
      apiKey: "soar",
      clientAddress: "203.0.113.9",
    };
    await sink.record({
      ...post,
      kind: "accepted",
      status: 202,
      tenantId: "t",
      machineActionIds: ["a"],
      jobId: "j",
    });
    await sink.record({ ...post, kind: "refused", status: 403, reason: "this key is read-only" });
    await sink.record({ ...post, kind: "accepted", status: 202, jobId: "j", replayed: true });
    const records: AuditRecord[] = [];
    for await (const r of log.records()) records.push(r);
    // Every record carries the route, the key's name and the client's address.
    for (const r of records)
      expect(r).toMatchObject({ route: "POST /v1/cancels", apiKey: "soar", client: "203.0.113.9" });
    expect(records.map((r) => [r.kind, r.status, r.jobId, r.reason])).toEqual([
      ["request", "202", "j", undefined],
      ["refusal", "403", undefined, "this key is read-only"],
      ["request", "202", "j", "Idempotency-Key replay: nothing added"],
    ]);
  });
});
