import { describe, expect, it } from "vitest";
import { parseCancelJob } from "../../shared/contract/cancel-job.js";
import { gaveUpResult, isTerminal } from "../../shared/contract/cancel-result.js";

const ID = "5382F7EA-7557-4AB7-9782-D50480024A4E";

function refused(data: unknown): string {
  const parsed = parseCancelJob(data);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(data)} to be refused`);
  return parsed.reason;
}

describe("parseCancelJob", () => {
  it("accepts a minimal job and lower-cases the ids", () => {
    const parsed = parseCancelJob({ machineActionId: ID, comment: "stop" });
    expect(parsed).toEqual({ ok: true, job: { machineActionId: ID.toLowerCase(), comment: "stop" } });
  });
  it("accepts real GUIDs whose variant bits are not RFC 4122's", () => {
    expect(parseCancelJob({ machineActionId: "c141bb71-8125-4234-c184-000000000000", comment: "x" }).ok).toBe(
      true,
    );
  });
  it("treats null optional fields as absent", () => {
    const parsed = parseCancelJob({ machineActionId: ID, comment: "x", tenantId: null, correlationId: null });
    expect(parsed.ok && parsed.job.tenantId).toBeUndefined();
  });
  it("refuses ids that are not GUIDs, including path traversal", () => {
    for (const id of ["../machines/x/offboard", `${ID}/cancel`, "", "not-a-guid", `${ID} `, 42, null])
      expect(refused({ machineActionId: id, comment: "x" })).toMatch(/machineActionId/);
  });
  it("refuses empty, blank and oversized comments", () => {
    expect(refused({ machineActionId: ID, comment: "" })).toMatch(/comment must not be empty/);
    expect(refused({ machineActionId: ID, comment: "   " })).toMatch(/comment must not be empty/);
    expect(refused({ machineActionId: ID, comment: "x".repeat(1001) })).toMatch(/1000/);
    expect(refused({ machineActionId: ID })).toMatch(/comment/);
  });
  it("refuses wrong types, long fields and unknown fields", () => {
    expect(refused({ machineActionId: ID, comment: 5 })).toMatch(/comment must be a string/);
    expect(refused({ machineActionId: ID, comment: "x", requestedBy: "r".repeat(201) })).toMatch(
      /requestedBy/,
    );
    // A tenant's name from MDE_TENANTS_FILE is accepted (the worker resolves it); anything else is not.
    expect(refused({ machineActionId: ID, comment: "x", tenantId: "contoso corp" })).toMatch(
      /tenantId must be a tenant GUID or a tenant name/,
    );
    expect(refused({ machineActionId: ID, comment: "x", tenantId: "../x" })).toMatch(/tenantId/);
    const named = parseCancelJob({ machineActionId: ID, comment: "x", tenantId: "Contoso" });
    expect(named.ok && named.job.tenantId).toBe("Contoso");
    expect(refused({ machineActionId: ID, comment: "x", extra: 1 })).toMatch(/unknown field extra/);
    expect(refused("a string")).toBeTruthy();
    expect(refused(null)).toBeTruthy();
    expect(refused([ID])).toBeTruthy();
  });
  it("refuses data over 16 KB before looking at it", () => {
    expect(refused({ machineActionId: ID, comment: "x", padding: "p".repeat(17_000) })).toMatch(/16 KB/);
  });
});

describe("isTerminal", () => {
  it("knows Defender's four final states and nothing else", () => {
    for (const s of ["Succeeded", "Failed", "Cancelled", "TimeOut"]) expect(isTerminal(s)).toBe(true);
    for (const s of ["Pending", "InProgress", "Canceled", "timeout", "", null, undefined])
      expect(isTerminal(s)).toBe(false);
  });
});

describe("gaveUpResult", () => {
  const TENANT = "11111111-2222-3333-4444-555555555555";
  const OTHER = "99999999-8888-7777-6666-555555555555";
  const ref = (data: unknown) => ({ jobId: "j", data, enqueuedAt: 0 });

  it("names the default tenant for a valid job that names none, and keeps a named one", () => {
    const own = gaveUpResult(ref({ machineActionId: ID, comment: "x" }), 1, "stalled", undefined, TENANT);
    expect(own).toMatchObject({ outcome: "failed", tenantId: TENANT, error: { code: "upstream" } });
    const named = gaveUpResult(
      ref({ machineActionId: ID, comment: "x", tenantId: OTHER }),
      1,
      "x",
      undefined,
      TENANT,
    );
    expect(named.tenantId).toBe(OTHER);
    // Hostile data is no job of the default tenant's: only its GUIDs are echoed.
    expect(gaveUpResult(ref({ machineActionId: "../x" }), 1, "x", undefined, TENANT).tenantId).toBeNull();
  });
});
