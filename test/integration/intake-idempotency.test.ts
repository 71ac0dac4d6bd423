import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../intake/idempotency.js";
import { CampaignStore } from "../../shared/redis/campaign-store.js";
import { keyPrefix } from "../../shared/redis/queues.js";
import { guid, intakeForFile } from "../support/intake.js";

const api = intakeForFile();

const campaigns = () => new CampaignStore(api.intake.redis, keyPrefix(api.intake.config), 60_000).list();

describe("Idempotency-Key", () => {
  it("replays the first answer (status, Location, Retry-After, body) and adds nothing", async () => {
    const body = { machineActionId: guid(), comment: "stop", correlationId: "incident-1" };
    const headers = { "idempotency-key": `retry-${guid()}` };
    const first = await api.call("POST", "/v1/cancels", { body, headers });
    expect(first.status).toBe(202);
    expect(first.body.added).toBe(true);
    // The same JSON value, keys in another order: a retry of a tool that rebuilds its body.
    const reordered = { correlationId: "incident-1", comment: "stop", machineActionId: body.machineActionId };
    const again = await api.call("POST", "/v1/cancels", { body: reordered, headers });
    expect(again.status).toBe(202);
    // Without the replay the answer would report the job as already queued (added: false).
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    expect(again.headers.get("retry-after")).toBe(first.headers.get("retry-after"));
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await api.intake.cancelQueue.count()).toBe(1);
  });

  it("answers 422 to the same key with another body, and adds nothing", async () => {
    const headers = { "idempotency-key": `retry-${guid()}` };
    const first = await api.call("POST", "/v1/cancels", {
      body: { machineActionId: guid(), comment: "a" },
      headers,
    });
    expect(first.status).toBe(202);
    const before = await api.intake.cancelQueue.count();
    const other = await api.call("POST", "/v1/cancels", {
      body: { machineActionId: guid(), comment: "a" },
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await api.intake.cancelQueue.count()).toBe(before);
  });

  it("starts one campaign for two identical requests racing each other", async () => {
    const body = { machineActionIds: [guid(), guid()], comment: "sweep" };
    const headers = { "idempotency-key": `race-${guid()}` };
    const before = (await campaigns()).length;
    const answers = await Promise.all([
      api.call("POST", "/v1/campaigns", { body, headers }),
      api.call("POST", "/v1/campaigns", { body, headers }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    // Without the key each request would make a campaign of its own, with its own generated id.
    expect(answers[1]?.body.campaignId).toBe(answers[0]?.body.campaignId);
    expect((await campaigns()).length).toBe(before + 1);
  });

  it("is scoped to the API key, and frees the key when the first request was refused", async () => {
    const other = await api.intake.newKey();
    const headers = { "idempotency-key": `shared-${guid()}` };
    const body = { machineActionIds: [guid()], comment: "sweep" };
    const mine = await api.call("POST", "/v1/campaigns", { body, headers });
    const theirs = await api.call("POST", "/v1/campaigns", { key: other, body, headers });
    expect(theirs.status).toBe(202);
    expect(theirs.body.campaignId).not.toBe(mine.body.campaignId);

    const retried = { "idempotency-key": `bad-then-good-${guid()}` };
    const refused = await api.call("POST", "/v1/campaigns", {
      body: { ...body, name: mine.body.campaignId },
      headers: retried,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].field).toBe("name");
    const fixed = await api.call("POST", "/v1/campaigns", { body, headers: retried });
    expect(fixed.status).toBe(202);
  });

  it("compares JSON values, not texts", () => {
    expect(canonicalJson({ b: [1, { d: 2, c: null }], a: "x" })).toBe(
      canonicalJson({ a: "x", b: [1, { c: null, d: 2 }] }),
    );
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});
