/** What doctor reads from a token and what it advises: pure functions of shared/defender/. */
import { describe, expect, it } from "vitest";
import { adminConsentUrl } from "../../shared/defender/admin-consent.js";
import { refusalAdvice } from "../../shared/defender/entra-refusals.js";
import { CANCEL_PERMISSIONS, checkPermissions, READ_PERMISSIONS } from "../../shared/defender/permissions.js";
import { tokenClaims } from "../../shared/defender/token-claims.js";
import { CANCEL_ROLES, READ_ROLES } from "../../sim/sim-tenant.js";

const TENANT = "5f0d8c2b-7e41-4b6a-8c3d-9e2a1b4c6d7f";
const APP = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const GCC_HIGH = {
  authorityHost: "https://login.microsoftonline.us",
  tenantId: TENANT,
  clientId: APP,
  tokenScope: "https://api-gov.securitycenter.microsoft.us/.default",
};

const jwt = (payload: object) =>
  ["{}", JSON.stringify(payload), "sig"].map((p) => Buffer.from(p).toString("base64url")).join(".");

describe("checkPermissions", () => {
  it("knows the permissions the simulator enforces, which keeps its own copy", () => {
    expect([...CANCEL_PERMISSIONS]).toEqual([...CANCEL_ROLES]);
    expect([...READ_PERMISSIONS]).toEqual([...READ_ROLES]);
  });

  it("accepts Machine.Read.All or Machine.ReadWrite.All with any one cancel permission", () => {
    for (const cancel of CANCEL_PERMISSIONS)
      expect(checkPermissions(["Machine.ReadWrite.All", cancel])).toEqual({
        cancel: [cancel],
        read: ["Machine.ReadWrite.All"],
        missing: [],
      });
  });

  it("names what is missing", () => {
    expect(checkPermissions(["Machine.Read.All"]).missing).toEqual([
      `one of ${CANCEL_PERMISSIONS.join(", ")} (cancel)`,
    ]);
    // Read alone is not a cancel permission, nor is a misspelling Defender once checked for.
    expect(checkPermissions(["Machine.Isolate", "Machine.CollectForensic"]).missing).toEqual([
      "Machine.Read.All or Machine.ReadWrite.All (state checks)",
    ]);
    expect(checkPermissions([]).missing).toHaveLength(2);
  });
});

describe("tokenClaims", () => {
  it("reads tid, appid and roles from the payload without verifying it", () => {
    expect(tokenClaims(jwt({ tid: TENANT, appid: APP, roles: ["Machine.Scan", 7] }))).toEqual({
      tid: TENANT,
      appid: APP,
      roles: ["Machine.Scan"],
    });
    expect(tokenClaims(jwt({ tid: TENANT }))?.roles).toEqual([]);
  });

  it("gives undefined for anything that is not a JWT", () => {
    expect(tokenClaims("opaque-token")).toBeUndefined();
    expect(tokenClaims("a.%%%.c")).toBeUndefined();
  });
});

describe("adminConsentUrl", () => {
  it("points at the tenant on its own cloud's authority, asking for the app's permissions on the API", () => {
    expect(adminConsentUrl(GCC_HIGH)).toBe(
      `https://login.microsoftonline.us/${TENANT}/v2.0/adminconsent?client_id=${APP}` +
        "&scope=https%3A%2F%2Fapi-gov.securitycenter.microsoft.us%2F.default",
    );
  });
});

describe("refusalAdvice", () => {
  it("gives the consent URL where consent is the fix, and only there", () => {
    for (const code of ["AADSTS700016", "AADSTS500011", "AADSTS90094", "AADSTS65001"])
      expect(refusalAdvice(code, GCC_HIGH).consentUrl, code).toBe(adminConsentUrl(GCC_HIGH));
    for (const code of ["AADSTS7000215", "AADSTS7000222", "AADSTS90002"])
      expect(refusalAdvice(code, GCC_HIGH).consentUrl, code).toBeUndefined();
  });

  it("says what each common code means", () => {
    expect(refusalAdvice("AADSTS7000215", GCC_HIGH).meaning).toBe("invalid client secret");
    expect(refusalAdvice("AADSTS7000222", GCC_HIGH).meaning).toBe("the client secret has expired");
    expect(refusalAdvice("AADSTS90002", GCC_HIGH).fix).toContain("authorityHost");
    expect(refusalAdvice("endpoints_resolution_error", GCC_HIGH).meaning).toContain("AADSTS90002");
  });

  it("points an unknown code at Microsoft's lookup, and an unreachable Entra ID at the network", () => {
    expect(refusalAdvice("AADSTS50034", GCC_HIGH).fix).toBe(
      "look the code up at https://login.microsoftonline.com/error?code=50034",
    );
    expect(refusalAdvice("network_error", GCC_HIGH).fix).toContain(
      "https://login.microsoftonline.us is reachable",
    );
  });
});
