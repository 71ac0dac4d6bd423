import { describe, expect, it } from "vitest";
import { type Config, parseConfig } from "../../shared/config/config.js";
import { UsageError } from "../../shared/core/errors.js";

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

function refusal(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("expected the configuration to be refused");
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
