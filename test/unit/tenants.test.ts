import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import { loadTenantInfo, loadTenants } from "../../shared/config/tenants.js";
import { UsageError } from "../../shared/core/errors.js";

const CONTOSO = "0b9a5c1e-4a52-4c1d-9a57-2f1f4a3e8d10";
const FABRIKAM = "5f0d8c2b-7e41-4b6a-8c3d-9e2a1b4c6d7f";
const APP = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const OTHER_APP = "12345678-90ab-cdef-1234-567890abcdef";
const FILE = "/etc/mde/tenants.json";

type Files = Record<string, string>;
const reader = (files: Files) => (path: string) => {
  const text = files[path];
  if (text === undefined)
    throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: "ENOENT" });
  return text;
};

/** Loads `body` (JSON-encoded unless a string) as MDE_TENANTS_FILE with the given environment. */
function load(body: unknown, env: Record<string, string> = {}, files: Files = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const config = parseConfig({
    MDE_TENANTS_FILE: FILE,
    AZURE_CLIENT_ID: APP,
    AZURE_CLIENT_SECRET: "shared-s3cret",
    ...env,
  });
  return loadTenants({ config, env, readFile: reader({ [FILE]: text, ...files }) });
}

function refusal(body: unknown, env: Record<string, string> = {}, files: Files = {}): string {
  try {
    load(body, env, files);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error("expected the tenants file to be refused");
}

const two = (extra: Record<string, unknown> = {}) => ({
  defaultTenant: "contoso",
  tenants: [
    { id: CONTOSO, name: "contoso" },
    { id: FABRIKAM, name: "fabrikam", ...extra },
  ],
});

describe("the tenants file", () => {
  it("fills every setting a tenant leaves out from the deployment's configuration", () => {
    const directory = load(two(), { MDE_RATE_LIMITS: "50/1m", CAMPAIGN_BUDGET_SHARE: "0.5" });
    const fabrikam = directory.resolve("fabrikam");
    expect(fabrikam).toMatchObject({
      tenantId: FABRIKAM,
      name: "fabrikam",
      clientId: APP,
      credential: { kind: "secret" },
      authorityHost: "https://login.microsoftonline.com",
      apiBaseUrl: "https://api.securitycenter.microsoft.com",
      tokenScope: "https://api.securitycenter.microsoft.com/.default",
      rateLimits: [{ limit: 50, windowMs: 60_000 }],
      campaignBudgetShare: 0.5,
    });
    expect(fabrikam?.credential).toMatchObject({ secret: "shared-s3cret" });
    expect(directory.file).toBe(FILE);
  });

  it("takes each tenant's own settings, GCC High beside commercial", () => {
    const gcch = {
      clientId: OTHER_APP.toUpperCase(),
      clientCertificatePath: "certs/fabrikam.pem",
      authorityHost: "https://login.microsoftonline.us/",
      apiBaseUrl: "https://api-gov.securitycenter.microsoft.us",
      tokenScope: "https://api-gov.securitycenter.microsoft.us/.default",
      rateLimits: "10/1s,600/1h",
      campaignBudgetShare: 0.25,
    };
    const fabrikam = load(two(gcch)).resolve(FABRIKAM);
    expect(fabrikam).toEqual({
      tenantId: FABRIKAM,
      name: "fabrikam",
      clientId: OTHER_APP,
      credential: { kind: "certificate", path: "/etc/mde/certs/fabrikam.pem" },
      authorityHost: "https://login.microsoftonline.us",
      apiBaseUrl: "https://api-gov.securitycenter.microsoft.us",
      tokenScope: "https://api-gov.securitycenter.microsoft.us/.default",
      rateLimits: [
        { limit: 10, windowMs: 1_000 },
        { limit: 600, windowMs: 3_600_000 },
      ],
      campaignBudgetShare: 0.25,
    });
  });

  it("reads a secret from the variable a tenant names, and from a file with surrounding whitespace trimmed", () => {
    const env = { FABRIKAM_SECRET: "from-env" };
    expect(
      load(two({ clientSecretEnv: "FABRIKAM_SECRET" }), env).resolve("fabrikam")?.credential,
    ).toMatchObject({
      kind: "secret",
      secret: "from-env",
    });
    const files = { "/etc/mde/secrets/fabrikam": "\n  from-file \r\n" };
    const fromFile = load(two({ clientSecretFile: "secrets/fabrikam" }), {}, files).resolve("fabrikam");
    expect(fromFile?.credential).toMatchObject({ kind: "secret", secret: "from-file" });
  });

  it("names the variable or file that holds no secret, never a secret", () => {
    expect(refusal(two({ clientSecretEnv: "FABRIKAM_SECRET" }))).toBe(
      `MDE_TENANTS_FILE ${FILE}: tenants[1] ("fabrikam") clientSecretEnv names FABRIKAM_SECRET, which is not set or empty; set it in the environment or .env.`,
    );
    expect(refusal(two({ clientSecretFile: "/run/secrets/nope" }))).toBe(
      `MDE_TENANTS_FILE ${FILE}: tenants[1] ("fabrikam") clientSecretFile /run/secrets/nope cannot be read (ENOENT); point it at a file holding the secret.`,
    );
    expect(refusal(two({ clientSecretFile: "/s" }), {}, { "/s": " \n" })).toMatch(
      /clientSecretFile \/s is empty/,
    );
    // A secret pasted where its variable's name belongs is not echoed back.
    const pasted = refusal(two({ clientSecretEnv: "Xy7~secret.value" }));
    expect(pasted).toMatch(
      /tenants\[1\] \("fabrikam"\)\.clientSecretEnv must be the NAME of an environment variable/,
    );
    expect(pasted).not.toContain("Xy7~secret.value");
  });

  it("keeps secrets out of logs and serialized tenants", () => {
    const directory = load(two({ clientSecretEnv: "FABRIKAM_SECRET" }), { FABRIKAM_SECRET: "hunter2" });
    const tenants = directory.list();
    expect(JSON.stringify(tenants)).not.toMatch(/hunter2|shared-s3cret/);
    expect(inspect(tenants, { depth: 5 })).not.toMatch(/hunter2|shared-s3cret/);
  });

  it("refuses every malformed field, naming the entry and the field", () => {
    const bad = (extra: Record<string, unknown>) => refusal(two(extra));
    expect(bad({ rateLimits: "x" })).toBe(
      `MDE_TENANTS_FILE ${FILE}: tenants[1] ("fabrikam").rateLimits "x" must be comma-separated N/<int><ms|s|m|h>, e.g. 100/1m,1500/1h.`,
    );
    expect(bad({ apiBaseUrl: "http://api.example.com" })).toMatch(
      /tenants\[1\] \("fabrikam"\)\.apiBaseUrl "http:\/\/api.example.com" must be https:\/\/ \(http:\/\/ only for loopback hosts\)/,
    );
    expect(load(two({ apiBaseUrl: "http://127.0.0.1:8443/" })).resolve("fabrikam")?.apiBaseUrl).toBe(
      "http://127.0.0.1:8443",
    );
    expect(bad({ authorityHost: "http://127.0.0.1:8443" })).toMatch(
      /\.authorityHost "http:\/\/127.0.0.1:8443" must be https:\/\//,
    );
    expect(bad({ clientId: "fabrikam-app" })).toMatch(/\.clientId "fabrikam-app" must be a GUID/);
    expect(bad({ campaignBudgetShare: 0 })).toMatch(/\.campaignBudgetShare 0 must be a number in \(0, 1\]/);
    expect(bad({ campaignBudgetShare: "0.5" })).toMatch(/\.campaignBudgetShare must be a number/);
    expect(bad({ tokenScope: "" })).toMatch(/\.tokenScope "" must not be empty/);
    expect(bad({ clientSecretEnv: "A", clientCertificatePath: "/c.pem" })).toMatch(
      /tenants\[1\] \("fabrikam"\) sets clientSecretEnv and clientCertificatePath; give at most one credential/,
    );
    expect(bad({ name: "fabrikam corp" })).toMatch(
      /tenants\[1\] \("fabrikam corp"\)\.name "fabrikam corp" must be 1 to 64 of A-Z, a-z, 0-9/,
    );
    expect(bad({ name: "x".repeat(65) })).toMatch(/tenants\[1\]\.name "x{65}" must be 1 to 64/);
    expect(bad({ id: "fabrikam.onmicrosoft.com" })).toMatch(/\.id "fabrikam.onmicrosoft.com" must be a GUID/);
    expect(bad({ name: CONTOSO })).toMatch(/\.name .* must not be a GUID other than the tenant's id/);
  });

  it("refuses unknown fields, and says where a secret goes instead", () => {
    const message = refusal(two({ clientSecret: "hunter2" }));
    expect(message).toMatch(
      /tenants\[1\] \("fabrikam"\) has unknown field "clientSecret" \(secrets never sit in the file/,
    );
    expect(message).not.toContain("hunter2");
    expect(refusal({ ...two(), tenant: [] })).toMatch(/: the file has unknown field "tenant"\.$/);
  });

  it("needs unique ids and names (whatever their case) and a default that is listed", () => {
    const dup = {
      tenants: [
        { id: CONTOSO, name: "contoso" },
        { id: CONTOSO.toUpperCase(), name: "Contoso" },
      ],
    };
    const message = refusal(dup);
    expect(message).toMatch(/tenants\[1\] \("Contoso"\)\.id .* repeats the id of tenants\[0\]/);
    expect(message).toMatch(/tenants\[1\] \("Contoso"\)\.name "Contoso" repeats the name of tenants\[0\]/);
    expect(refusal({ ...two(), defaultTenant: "northwind" })).toBe(
      `MDE_TENANTS_FILE ${FILE}: defaultTenant "northwind" names no tenant of the file; give one of its ids or names.`,
    );
    expect(refusal({ tenants: [] })).toMatch(/: tenants must list at least one tenant\.$/);
    expect(refusal({ tenants: [{ id: CONTOSO }] })).toMatch(/tenants\[0\]\.name is missing/);
    expect(refusal([])).toMatch(/: the file must be a JSON object\.$/);
    expect(refusal({ tenants: {} })).toMatch(/: tenants must be an array\.$/);
    expect(refusal({ tenants: [{ id: CONTOSO, name: "c", rateLimits: 5, foo: 1, bar: 2 }] })).toMatch(
      /tenants\[0\] \("c"\)\.rateLimits must be a string; tenants\[0\] \("c"\) has unknown fields "foo", "bar"\.$/,
    );
  });

  it("names an unreadable or malformed file", () => {
    const config = parseConfig({ MDE_TENANTS_FILE: "/nowhere.json" });
    expect(() => loadTenants({ config, env: {}, readFile: reader({}) })).toThrow(
      "MDE_TENANTS_FILE /nowhere.json cannot be read (ENOENT); point it at the tenants JSON file.",
    );
    expect(refusal('{"tenants": [x]}')).toMatch(
      /^MDE_TENANTS_FILE \/etc\/mde\/tenants.json is not valid JSON \(Unexpected token/,
    );
  });

  it("needs an app and a credential for each tenant, from the file or the environment", () => {
    const config = parseConfig({ MDE_TENANTS_FILE: FILE });
    const readFile = reader({ [FILE]: JSON.stringify(two()) });
    expect(() => loadTenants({ config, env: {}, readFile })).toThrow(
      /tenants\[0\] \("contoso"\) has no clientId, and AZURE_CLIENT_ID is not set; set either; tenants\[0\] \("contoso"\) has no credential; give it clientSecretEnv, clientSecretFile or clientCertificatePath, or set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH/,
    );
    expect(refusal(two(), { AZURE_CLIENT_CERTIFICATE_PATH: "/app.pem" })).toMatch(
      /both AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are set/,
    );
    // Producers resolve names and budgets without any credential.
    const info = loadTenantInfo({ config, env: {}, readFile });
    expect(info.list().map((t) => t.name)).toEqual(["contoso", "fabrikam"]);
    expect(info.resolve("fabrikam")).not.toHaveProperty("credential");
  });

  it("picks the default tenant: defaultTenant, else AZURE_TENANT_ID, else the only one", () => {
    expect(load({ ...two(), defaultTenant: FABRIKAM.toUpperCase() }).defaultTenant?.name).toBe("fabrikam");
    const { defaultTenant: _, ...unnamed } = two();
    expect(load(unnamed).defaultTenant).toBeUndefined();
    expect(load(unnamed, { AZURE_TENANT_ID: FABRIKAM }).defaultTenant?.name).toBe("fabrikam");
    expect(refusal(unnamed, { AZURE_TENANT_ID: APP })).toMatch(
      `AZURE_TENANT_ID ${APP} is not one of its tenants; add it, or name the default with defaultTenant`,
    );
    expect(load({ tenants: [{ id: CONTOSO, name: "contoso" }] }).defaultTenant?.tenantId).toBe(CONTOSO);
  });
});

describe("TenantDirectory", () => {
  const directory = load(two());

  it("resolves an id in any case or a name in any case, and nothing else", () => {
    expect(directory.resolve(CONTOSO.toUpperCase())?.name).toBe("contoso");
    expect(directory.resolve("FabriKam")?.tenantId).toBe(FABRIKAM);
    expect(directory.resolve("northwind")).toBeUndefined();
    expect(directory.resolve("")).toBeUndefined();
    expect(directory.list().map((t) => t.tenantId)).toEqual([CONTOSO, FABRIKAM]);
    expect(directory.size).toBe(2);
  });

  it("labels a tenant by its name, anything else as unknown", () => {
    expect(directory.label(FABRIKAM)).toBe("fabrikam");
    expect(directory.label("not-a-tenant")).toBe("unknown");
  });
});

describe("without a tenants file", () => {
  const env = { AZURE_TENANT_ID: CONTOSO.toUpperCase(), AZURE_CLIENT_ID: APP, AZURE_CLIENT_SECRET: "s" };

  it("serves the one tenant of AZURE_TENANT_ID, labelled by its id", () => {
    const directory = loadTenants({ config: parseConfig(env), env });
    expect(directory.list()).toHaveLength(1);
    expect(directory.defaultTenant).toMatchObject({ tenantId: CONTOSO, name: CONTOSO, clientId: APP });
    expect(directory.defaultTenant?.credential).toMatchObject({ kind: "secret", secret: "s" });
    expect(directory.label(CONTOSO)).toBe(CONTOSO);
    expect(directory.label(FABRIKAM)).toBe("unknown");
    expect(directory.file).toBeUndefined();
  });

  it("asks a worker for what it asked before tenants existed; producers need nothing", () => {
    expect(() => loadTenants({ config: parseConfig({}), env: {} })).toThrow(
      "A worker needs AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH; set it in the environment or .env.",
    );
    const none = loadTenantInfo({ config: parseConfig({}), env: {} });
    expect(none.list()).toEqual([]);
    expect(none.defaultTenant).toBeUndefined();
    expect(loadTenantInfo({ config: parseConfig(env), env }).defaultTenant?.tenantId).toBe(CONTOSO);
  });
});
