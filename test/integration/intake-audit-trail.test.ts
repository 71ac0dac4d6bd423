import { afterEach, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../shared/redis/audit-log.js";
import { runCli } from "../support/cli.js";
import { type Harness, startHarness } from "../support/harness.js";
import { startTestIntake, type TestIntake } from "../support/intake.js";
import { waitFor } from "../support/wait.js";
import { newWebhookSecret, type Receiver, startReceiver } from "../support/webhook-receiver.js";

const SECRET = newWebhookSecret();
let h: Harness | undefined;
let intake: TestIntake | undefined;
let receivers: Receiver[] = [];
afterEach(async () => {
  await intake?.close();
  await Promise.all(receivers.map((r) => r.close()));
  await h?.close();
  h = intake = undefined;
  receivers = [];
});

async function audit(env: Record<string, string>): Promise<AuditRecord[]> {
  const run = await runCli(["audit", "--json"], env);
  expect(run.code).toBe(0);
  return run.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as AuditRecord);
}

describe("serve's refusals and the audit trail (worker and simulator running)", () => {
  it("refuses unlisted loopback callback targets with 400 naming callbackUrl, and audits requests and refusals once, without the key", async () => {
    h = await startHarness();
    const listed = await startReceiver(SECRET);
    const unlisted = await startReceiver(SECRET);
    receivers = [listed, unlisted];
    intake = await startTestIntake({
      env: {
        ...h.env,
        INTAKE_WEBHOOK_SECRET: SECRET,
        INTAKE_CALLBACK_HOSTS: `127.0.0.1:${listed.port}`,
      },
    });
    const key = await intake.newKey({ name: "xsoar" });
    const machineActionId = h.sim.store.add().id;
    const targets = [
      `https://127.0.0.2:${listed.port}/hooks`,
      `https://[::1]:${listed.port}/hooks`,
      unlisted.url,
    ];
    for (const callbackUrl of targets) {
      const refused = await intake.call("POST", "/v1/cancels", {
        key,
        body: { machineActionId, comment: "stop", callbackUrl },
      });
      expect(refused.status).toBe(400);
      expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(refused.body.errors).toEqual([
        { field: "callbackUrl", message: expect.stringMatching(/INTAKE_CALLBACK_HOSTS/) },
      ]);
    }
    const campaign = await intake.call("POST", "/v1/campaigns", {
      key,
      body: { machineActionIds: [machineActionId], comment: "sweep", callbackUrl: unlisted.url },
    });
    expect(campaign.status).toBe(400);
    expect(campaign.body.errors[0].field).toBe("callbackUrl");
    expect(await intake.cancelQueue.count()).toBe(0);

    const accepted = await intake.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId, comment: "stop", callbackUrl: listed.url },
    });
    expect(accepted.status).toBe(202);
    await h.startWorker();
    await waitFor("the callback", () => listed.received.length === 1);
    expect(unlisted.received).toEqual([]);

    const records = await waitFor("the outcome's record", async () => {
      const all = await audit(h?.env ?? {});
      return all.some((r) => r.kind === "outcome") ? all : undefined;
    });
    expect(JSON.stringify(records)).not.toContain(key);
    const http = { requestedBy: "api-key:xsoar", apiKey: "xsoar", client: "127.0.0.1" };
    expect(records.filter((r) => r.kind === "refusal")).toEqual(
      [...targets, "campaign"].map(() =>
        expect.objectContaining({ ...http, status: "400", reason: expect.stringMatching(/^callbackUrl /) }),
      ),
    );
    const requests = records.filter((r) => r.kind === "request");
    expect(requests).toEqual([
      expect.objectContaining({
        ...http,
        route: "POST /v1/cancels",
        status: "202",
        tenantId: h.config.tenantId,
        machineActionIds: [machineActionId],
        jobId: accepted.body.jobId,
      }),
    ]);
    expect(records.filter((r) => r.kind === "outcome")).toEqual([
      expect.objectContaining({
        jobId: accepted.body.jobId,
        requestedBy: "api-key:xsoar",
        outcome: "cancelled",
      }),
    ]);
  });
});
