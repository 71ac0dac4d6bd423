import { afterEach, describe, expect, it } from "vitest";
import type { HttpAuditEntry } from "../../intake/audit-sink.js";
import { TENANT } from "../support/harness.js";
import { guid, startTestIntake, type TestIntake } from "../support/intake.js";
import { waitFor } from "../support/wait.js";

let intake: TestIntake | undefined;
afterEach(async () => {
  await intake?.close();
  intake = undefined;
});

describe("intake audit port", () => {
  it("hands the sink every accepted change and every refusal, with the key's name and never the key", async () => {
    const entries: HttpAuditEntry[] = [];
    intake = await startTestIntake({ overrides: { audit: { record: async (e) => void entries.push(e) } } });
    const key = await intake.newKey({ name: "sentinel" });
    const machineActionId = guid();
    const accepted = await intake.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId, comment: "stop" },
    });
    await intake.call("POST", "/v1/cancels", { key, body: { machineActionId: "nope", comment: "stop" } });
    await intake.call("POST", "/v1/cancels", { body: { machineActionId, comment: "stop" } });
    await intake.call("GET", `/v1/cancels/${accepted.body.jobId}`, { key });
    await waitFor("3 audit entries", () => entries.length >= 3);

    expect(entries).toHaveLength(3); // the poll (a GET that changed nothing) is not audited
    const byStatus = (status: number) => entries.find((e) => e.status === status);
    expect(byStatus(202)).toMatchObject({
      kind: "accepted",
      method: "POST",
      route: "/v1/cancels",
      status: 202,
      requestedBy: "api-key:sentinel",
      apiKey: "sentinel",
      clientAddress: "127.0.0.1",
      tenantId: TENANT,
      machineActionIds: [machineActionId],
      jobId: accepted.body.jobId,
    });
    expect(byStatus(400)).toMatchObject({ kind: "refused", apiKey: "sentinel" });
    expect(byStatus(400)?.reason).toContain("machineActionId must be a GUID");
    expect(byStatus(401)).toMatchObject({ kind: "refused", apiKey: null, requestedBy: null });
    expect(JSON.stringify(entries)).not.toContain(key);
  });
});
