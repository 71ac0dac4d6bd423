import { afterEach, describe, expect, it } from "vitest";
import { OTHER_TENANT, TENANT } from "../support/harness.js";
import { guid, startTestIntake, type TestIntake } from "../support/intake.js";

let intake: TestIntake | undefined;
afterEach(async () => {
  await intake?.close();
  intake = undefined;
});

const cancel = () => ({ machineActionId: guid(), comment: "stop" });

describe("intake API keys", () => {
  it("answers 401 problem+json without a key and for an unknown one, and enqueues nothing", async () => {
    intake = await startTestIntake();
    const none = await intake.call("POST", "/v1/cancels", { body: cancel() });
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(none.body).toMatchObject({ status: 401, title: expect.any(String), type: expect.any(String) });
    expect(none.body.detail).toMatch(/X-API-Key/);
    const unknown = await intake.call("POST", "/v1/cancels", {
      body: cancel(),
      key: `mdk_${"A".repeat(43)}`,
    });
    expect(unknown.status).toBe(401);
    const bearerUnknown = await intake.call("GET", "/v1/cancels/x", {
      headers: { authorization: "Bearer nope" },
    });
    expect(bearerUnknown.status).toBe(401);
    expect(await intake.cancelQueue.count()).toBe(0);
  });

  it("takes the key as X-API-Key or as a Bearer token", async () => {
    intake = await startTestIntake();
    const key = await intake.newKey();
    const viaHeader = await intake.call("POST", "/v1/cancels", { body: cancel(), key });
    expect(viaHeader.status).toBe(202);
    const viaBearer = await intake.call("POST", "/v1/cancels", {
      body: cancel(),
      headers: { authorization: `Bearer ${key}` },
    });
    expect(viaBearer.status).toBe(202);
    expect(viaBearer.body.jobId).not.toBe(viaHeader.body.jobId);
  });

  it("lets a read-only key GET but not POST or DELETE (403)", async () => {
    intake = await startTestIntake();
    const writer = await intake.newKey();
    const reader = await intake.newKey({ readOnly: true });
    const posted = await intake.call("POST", "/v1/cancels", { body: cancel(), key: reader });
    expect(posted.status).toBe(403);
    expect(posted.body.detail).toMatch(/read-only/);
    expect(await intake.cancelQueue.count()).toBe(0);
    const { body } = await intake.call("POST", "/v1/cancels", { body: cancel(), key: writer });
    expect((await intake.call("GET", `/v1/cancels/${body.jobId}`, { key: reader })).status).toBe(202);
    expect((await intake.call("DELETE", `/v1/cancels/${body.jobId}/callback`, { key: reader })).status).toBe(
      403,
    );
    expect((await intake.call("DELETE", `/v1/cancels/${body.jobId}/callback`, { key: writer })).status).toBe(
      204,
    );
  });

  it("refuses a tenant-limited key naming another tenant (403) and hides that tenant's jobs and campaigns (404)", async () => {
    intake = await startTestIntake();
    const limited = await intake.newKey({ tenants: [OTHER_TENANT] });
    const ours = await intake.newKey({ tenants: [TENANT] });
    const everyTenant = await intake.newKey();

    const named = await intake.call("POST", "/v1/cancels", {
      body: { ...cancel(), tenantId: TENANT },
      key: limited,
    });
    expect(named.status).toBe(403);
    expect(named.body.detail).toContain(TENANT);
    // Naming none means the default tenant, which this key may not act on either.
    expect((await intake.call("POST", "/v1/cancels", { body: cancel(), key: limited })).status).toBe(403);
    const campaign = { machineActionIds: [guid()], comment: "stop", tenantId: TENANT };
    expect((await intake.call("POST", "/v1/campaigns", { body: campaign, key: limited })).status).toBe(403);
    expect(await intake.cancelQueue.count()).toBe(0);

    const job = await intake.call("POST", "/v1/cancels", { body: cancel(), key: ours });
    expect(job.status).toBe(202);
    const started = await intake.call("POST", "/v1/campaigns", { body: campaign, key: everyTenant });
    expect(started.status).toBe(202);
    for (const path of [
      `/v1/cancels/${job.body.jobId}`,
      `/v1/campaigns/${started.body.campaignId}`,
      `/v1/campaigns/${started.body.campaignId}/results`,
    ]) {
      expect((await intake.call("GET", path, { key: limited })).status, path).toBe(404);
      expect((await intake.call("GET", path, { key: ours })).status, path).toBeLessThan(300);
    }
    expect(
      (await intake.call("DELETE", `/v1/cancels/${job.body.jobId}/callback`, { key: limited })).status,
    ).toBe(404);
  });

  it("answers 401 to a key once revoked, and never writes a key to the log", async () => {
    intake = await startTestIntake();
    const key = await intake.newKey({ name: "soar" });
    expect((await intake.call("POST", "/v1/cancels", { body: cancel(), key })).status).toBe(202);
    expect(await intake.keys.revoke("soar")).toBe(true);
    expect((await intake.call("POST", "/v1/cancels", { body: cancel(), key })).status).toBe(401);
    await intake.call("GET", "/v1/cancels/x", { headers: { authorization: `Bearer ${key}` } });
    expect(intake.logs.length).toBeGreaterThan(0);
    expect(intake.logs.join("\n")).not.toContain(key);
    expect(intake.logs.join("\n")).toContain('"key":"soar"');
  });

  it("needs no key for the probes and documents", async () => {
    intake = await startTestIntake();
    for (const path of ["/healthz", "/readyz", "/openapi.json", "/swagger.json", "/docs"]) {
      const answer = await intake.call("GET", path);
      expect(answer.status, path).toBe(200);
    }
  });
});
