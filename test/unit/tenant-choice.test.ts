import { describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import { resolveTenant } from "../../shared/config/resolve-tenant.js";
import { TenantDirectory, type TenantInfo } from "../../shared/config/tenant-directory.js";
import { loadTenantInfo } from "../../shared/config/tenants.js";
import { UnauthorizedError } from "../../shared/core/errors.js";
import { CredentialHealth } from "../../shared/defender/credential-health.js";
import { credentialReadiness } from "../../worker/credential-readiness.js";

const CONTOSO = "0b9a5c1e-4a52-4c1d-9a57-2f1f4a3e8d10";
const FABRIKAM = "5f0d8c2b-7e41-4b6a-8c3d-9e2a1b4c6d7f";
const OTHER = "99999999-8888-7777-6666-555555555555";
const FILE = "/etc/mde/tenants.json";

const info = (tenantId: string, name: string): TenantInfo => {
  const config = parseConfig({});
  return { ...config, tenantId, name };
};
const contoso = info(CONTOSO, "contoso");
const fabrikam = info(FABRIKAM, "fabrikam");
const fromFile = (defaultTenant?: TenantInfo) =>
  new TenantDirectory([contoso, fabrikam], defaultTenant, FILE);
const withoutFile = (azureTenantId?: string) =>
  loadTenantInfo({ config: parseConfig(azureTenantId ? { AZURE_TENANT_ID: azureTenantId } : {}), env: {} });

describe("a front door's tenant (resolveTenant)", () => {
  it("takes an id or a name in any case, and the default tenant when none is named", () => {
    expect(resolveTenant(fromFile(), "Fabrikam")).toEqual({ tenantId: FABRIKAM });
    expect(resolveTenant(fromFile(), CONTOSO.toUpperCase())).toEqual({ tenantId: CONTOSO });
    expect(resolveTenant(fromFile(contoso), undefined)).toEqual({ tenantId: CONTOSO });
    expect(resolveTenant(withoutFile(CONTOSO), undefined)).toEqual({ tenantId: CONTOSO });
  });

  it("refuses a tenant the deployment does not serve, naming it and where the served ones are", () => {
    expect(resolveTenant(fromFile(), "northwind", "--tenant").problem).toBe(
      `--tenant "northwind" is not a tenant of MDE_TENANTS_FILE ${FILE}; give the id or name of one of its tenants (contoso, fabrikam)`,
    );
    expect(resolveTenant(fromFile(), undefined).problem).toBe(
      `no tenantId given, and MDE_TENANTS_FILE ${FILE} names no defaultTenant; name one of its tenants (contoso, fabrikam)`,
    );
    expect(resolveTenant(withoutFile(CONTOSO), OTHER).problem).toBe(
      `tenantId "${OTHER}" is not served here: without MDE_TENANTS_FILE the only tenant is AZURE_TENANT_ID ${CONTOSO}`,
    );
    expect(resolveTenant(withoutFile(CONTOSO), "contoso").problem).toMatch(
      /^tenantId "contoso" is not served here/,
    );
    const many = new TenantDirectory(
      Array.from({ length: 7 }, (_, i) => info(`${i}0000000-0000-4000-8000-000000000000`, `t${i}`)),
      undefined,
      FILE,
    );
    expect(resolveTenant(many, "x").problem).toMatch(/its tenants \(t0, t1, t2, t3, t4 and 2 more\)$/);
  });

  it("takes any GUID where no tenant is known (no file, no AZURE_TENANT_ID), as before tenants files", () => {
    expect(resolveTenant(withoutFile(), OTHER.toUpperCase())).toEqual({ tenantId: OTHER });
    expect(resolveTenant(withoutFile(), "contoso").problem).toMatch(/must be a tenant GUID/);
    expect(resolveTenant(withoutFile(), undefined).problem).toBe(
      "no tenantId given; pass one, or set AZURE_TENANT_ID",
    );
  });
});

describe("readiness as the credentials decide it", () => {
  const refuse = (health: CredentialHealth, tenantId: string) =>
    health.refused(
      tenantId,
      new UnauthorizedError("Entra ID refused the credential: invalid_client AADSTS7000215"),
    );

  it("without a tenants file, is not ready while the one credential is refused", () => {
    const health = new CredentialHealth();
    expect(credentialReadiness(withoutFile(CONTOSO), health)).toBeUndefined();
    refuse(health, CONTOSO);
    expect(credentialReadiness(withoutFile(CONTOSO), health)).toEqual({
      ok: false,
      reason:
        "Entra ID refused the credential (AADSTS7000215): jobs fail unauthorized until it is accepted; it is tried again every 60 s (the worker's log says what to check)",
    });
  });

  it("with one, is ready naming the refused tenants while any works, and not ready when none does", () => {
    const health = new CredentialHealth();
    refuse(health, FABRIKAM);
    expect(credentialReadiness(fromFile(), health)).toEqual({
      ok: true,
      refused: [{ tenant: "fabrikam", tenantId: FABRIKAM, code: "AADSTS7000215" }],
    });
    refuse(health, CONTOSO);
    const none = credentialReadiness(fromFile(), health);
    expect(none).toMatchObject({ ok: false, refused: [{ tenant: "contoso" }, { tenant: "fabrikam" }] });
    expect(none?.ok === false && none.reason).toMatch(
      /^Entra ID refused the credential of every tenant \(contoso: AADSTS7000215, fabrikam: AADSTS7000215\)/,
    );
    // Accepted again (consent granted meanwhile): ready.
    health.accepted(CONTOSO);
    expect(credentialReadiness(fromFile(), health)?.ok).toBe(true);
  });
});
