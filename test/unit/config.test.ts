import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Config, parseConfig, SETTINGS } from "../../shared/config/config.js";
import { requireWorkerCredentials } from "../../shared/config/credentials.js";
import { UsageError } from "../../shared/core/errors.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE";

function refusal(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("expected the configuration to be refused");
}

describe("parseConfig", () => {
  it("applies every documented default", () => {
    const c = parseConfig({});
    expect(c.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(c.queuePrefix).toBe("bull");
    expect(c.cancelQueue).toBe("mde-cancel");
    expect(c.resultsQueues).toEqual(["mde-cancel-results"]);
    expect(c.resultRetentionMs).toBe(7 * 86_400_000);
    expect(c.auditRetentionMs).toBe(90 * 86_400_000);
    expect(c.apiBaseUrl).toBe("https://api.securitycenter.microsoft.com");
    expect(c.tokenScope).toBe("https://api.securitycenter.microsoft.com/.default");
    expect(c.authorityHost).toBe("https://login.microsoftonline.com");
    expect(c.rateLimits).toEqual([
      { limit: 100, windowMs: 60_000 },
      { limit: 1500, windowMs: 3_600_000 },
    ]);
    expect(c).toMatchObject({
      campaignBudgetShare: 0.8,
      workerConcurrency: 10,
      maxAttempts: 6,
      throttleGiveUpMs: 86_400_000,
      shutdownTimeoutMs: 30_000,
      httpTimeoutMs: 30_000,
      notFoundGraceMs: 30_000,
      metricsPort: 9464,
      metricsHost: "0.0.0.0",
      dashboardHost: "127.0.0.1",
      workerLockMs: 30_000,
      logLevel: "info",
    });
    expect(c.dashboardPort).toBeUndefined();
    expect(parseConfig({ DASHBOARD_PORT: "0" }).dashboardPort).toBeUndefined();
    expect(parseConfig({ DASHBOARD_PORT: "3000" }).dashboardPort).toBe(3000);
  });

  it("reads lists, GUIDs in any case and an empty RESULTS_QUEUE", () => {
    const c = parseConfig({
      RESULTS_QUEUE: "a, b ,c",
      AZURE_TENANT_ID: TENANT.toUpperCase(),
      AZURE_CLIENT_ID: CLIENT,
    });
    expect(c.resultsQueues).toEqual(["a", "b", "c"]);
    expect(c.tenantId).toBe(TENANT);
    expect(c.clientId).toBe(CLIENT.toLowerCase());
    expect(parseConfig({ RESULTS_QUEUE: "" }).resultsQueues).toEqual([]);
  });

  it("accepts http:// only for loopback API hosts", () => {
    expect(parseConfig({ MDE_API_BASE_URL: "http://127.0.0.1:8443/" }).apiBaseUrl).toBe(
      "http://127.0.0.1:8443",
    );
    expect(refusal({ MDE_API_BASE_URL: "http://api.securitycenter.microsoft.com" })).toMatch(
      /MDE_API_BASE_URL/,
    );
    expect(refusal({ AZURE_AUTHORITY_HOST: "http://127.0.0.1:9000" })).toMatch(/AZURE_AUTHORITY_HOST.*https/);
  });

  it("names each malformed variable and its value", () => {
    const message = refusal({
      WORKER_CONCURRENCY: "ten",
      MDE_RATE_LIMITS: "100/minute",
      RESULT_RETENTION: "7w",
    });
    expect(message).toMatch(/WORKER_CONCURRENCY="ten"/);
    expect(message).toMatch(/MDE_RATE_LIMITS="100\/minute" must be comma-separated/);
    expect(message).toMatch(/RESULT_RETENTION="7w"/);
    expect(refusal({ AUDIT_RETENTION: "3 months" })).toMatch(/AUDIT_RETENTION="3 months" must be <int>/);
    expect(refusal({ CAMPAIGN_BUDGET_SHARE: "0" })).toMatch(/CAMPAIGN_BUDGET_SHARE/);
    expect(refusal({ CAMPAIGN_BUDGET_SHARE: "1.5" })).toMatch(/CAMPAIGN_BUDGET_SHARE/);
    expect(refusal({ REDIS_URL: "http://localhost" })).toMatch(/REDIS_URL must start with redis:\/\//);
    expect(refusal({ AZURE_TENANT_ID: "contoso.onmicrosoft.com" })).toMatch(/AZURE_TENANT_ID.*GUID/);
    expect(refusal({ LOG_LEVEL: "loud" })).toMatch(/LOG_LEVEL/);
    expect(refusal({ MAX_ATTEMPTS: "0" })).toMatch(/MAX_ATTEMPTS/);
  });

  it("never echoes a secret or a Redis password", () => {
    const message = refusal({ REDIS_URL: "redis://:hunter2@", WORKER_CONCURRENCY: "x" });
    expect(message).not.toContain("hunter2");
  });
});

describe("requireWorkerCredentials", () => {
  it("names what a worker is missing", () => {
    expect(() => requireWorkerCredentials(parseConfig({}))).toThrow(
      /AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH/,
    );
  });
  it("takes a secret or a certificate, not both", () => {
    const base = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT };
    expect(requireWorkerCredentials(parseConfig({ ...base, AZURE_CLIENT_SECRET: "s" })).credential).toEqual({
      kind: "secret",
      secret: "s",
    });
    expect(
      requireWorkerCredentials(parseConfig({ ...base, AZURE_CLIENT_CERTIFICATE_PATH: "/x.pem" })).credential,
    ).toEqual({ kind: "certificate", path: "/x.pem" });
    expect(() =>
      requireWorkerCredentials(
        parseConfig({ ...base, AZURE_CLIENT_SECRET: "s", AZURE_CLIENT_CERTIFICATE_PATH: "/x" }),
      ),
    ).toThrow(/not both/);
  });
});

describe("the documentation of the settings", () => {
  const settings = Object.values(SETTINGS).map((s) => ({
    env: s.env,
    default: "default" in s ? s.default : "",
  }));
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const table = readme.slice(
    readme.indexOf("## Configuration"),
    readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1),
  );
  const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");

  it("lists every setting with its default in README's configuration table, and nothing else", () => {
    const rows = new Map(
      [...table.matchAll(/^\| `([A-Z_]+)` +\| ([^|]*)\|/gm)].map((m) => [m[1], (m[2] ?? "").trim()]),
    );
    expect([...rows.keys()].sort()).toEqual(settings.map((s) => s.env).sort());
    for (const s of settings)
      expect(rows.get(s.env), s.env).toSatisfy((cell: string) =>
        s.default ? cell === `\`${s.default}\`` : !cell.startsWith("`"),
      );
  });

  it("shows every setting with its default in .env.example, and nothing else", () => {
    const lines = new Map([...example.matchAll(/^(?:# )?([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    expect([...lines.keys()].sort()).toEqual(settings.map((s) => s.env).sort());
    for (const s of settings) expect(lines.get(s.env), s.env).toBe(s.default);
  });
});

/** The intake's part of the Config. */
function intake(env: Record<string, string>): Partial<Config> {
  const c = parseConfig(env);
  return {
    intakePort: c.intakePort,
    intakeHost: c.intakeHost,
    intakeRateLimit: c.intakeRateLimit,
    intakePublicUrl: c.intakePublicUrl,
    intakeWebhookSecret: c.intakeWebhookSecret,
    intakeCallbackHosts: c.intakeCallbackHosts,
    auditRetentionMs: c.auditRetentionMs,
  };
}

const SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

describe("the HTTP intake's settings", () => {
  it("applies the contract's defaults", () => {
    expect(intake({})).toEqual({
      intakePort: 8080,
      intakeHost: "0.0.0.0",
      intakeRateLimit: { limit: 600, windowMs: 60_000 },
      intakePublicUrl: undefined,
      intakeWebhookSecret: undefined,
      intakeCallbackHosts: undefined,
      auditRetentionMs: 90 * 86_400_000,
    });
  });

  it("reads every setting", () => {
    expect(
      intake({
        INTAKE_PORT: "9000",
        INTAKE_HOST: "127.0.0.1",
        INTAKE_RATE_LIMIT: "100/10s",
        INTAKE_PUBLIC_URL: "https://soar-gw.example.com/mde/",
        INTAKE_WEBHOOK_SECRET: SECRET,
        INTAKE_CALLBACK_HOSTS: "Hooks.internal:8443, 127.0.0.2,[::1]:9000",
        AUDIT_RETENTION: "30d",
      }),
    ).toEqual({
      intakePort: 9000,
      intakeHost: "127.0.0.1",
      intakeRateLimit: { limit: 100, windowMs: 10_000 },
      intakePublicUrl: "https://soar-gw.example.com/mde",
      intakeWebhookSecret: SECRET,
      intakeCallbackHosts: ["hooks.internal:8443", "127.0.0.2", "[::1]:9000"],
      auditRetentionMs: 30 * 86_400_000,
    });
  });

  it("refuses each malformed setting by name", () => {
    expect(refusal({ INTAKE_PORT: "70000" })).toMatch(/INTAKE_PORT="70000"/);
    expect(refusal({ INTAKE_RATE_LIMIT: "600/1m,10/1s" })).toMatch(/INTAKE_RATE_LIMIT.*one window/);
    expect(refusal({ INTAKE_RATE_LIMIT: "lots" })).toMatch(/INTAKE_RATE_LIMIT/);
    expect(refusal({ INTAKE_PUBLIC_URL: "soar-gw.example.com" })).toMatch(/INTAKE_PUBLIC_URL/);
    expect(refusal({ INTAKE_PUBLIC_URL: "https://x.example.com/?a=1" })).toMatch(/INTAKE_PUBLIC_URL/);
    expect(refusal({ INTAKE_CALLBACK_HOSTS: "https://hooks.example.com" })).toMatch(/INTAKE_CALLBACK_HOSTS/);
    expect(refusal({ AUDIT_RETENTION: "forever" })).toMatch(/AUDIT_RETENTION/);
  });

  it("refuses a short or malformed webhook secret without echoing it", () => {
    for (const secret of ["whsec_c2hvcnQ=", "not-a-secret", Buffer.alloc(32).toString("base64")]) {
      const message = refusal({ INTAKE_WEBHOOK_SECRET: secret });
      expect(message).toContain("INTAKE_WEBHOOK_SECRET");
      expect(message).not.toContain(secret);
    }
  });
});
