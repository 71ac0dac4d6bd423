import { describe, expect, it } from "vitest";
import { UnauthorizedError } from "../../shared/core/errors.js";
import { CredentialHealth, REFUSED_RETRY_MS } from "../../shared/defender/credential-health.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const OTHER = "99999999-8888-7777-6666-555555555555";
const refusedWith = (aadsts: number) =>
  new UnauthorizedError(`Entra ID refused the credential: invalid_client AADSTS${aadsts}`, {
    httpStatus: 401,
    code: "invalid_client",
  });

describe("CredentialHealth", () => {
  it("answers a refusal from memory for a minute, then lets one request try again", () => {
    let now = 1_000_000;
    const health = new CredentialHealth({ now: () => now });
    expect(REFUSED_RETRY_MS).toBe(60_000);
    const error = refusedWith(7000215);
    health.refused(TENANT, error);
    expect(health.blocking(TENANT)).toBe(error);
    expect(health.retryInMs(TENANT)).toBe(60_000);
    now += 59_999;
    expect(health.blocking(TENANT)).toBe(error);
    expect(health.retryInMs(TENANT)).toBe(1);
    now += 1;
    expect(health.blocking(TENANT)).toBeUndefined();
    // Refused again: another whole minute from this try.
    health.refused(TENANT, error);
    now += 30_000;
    expect(health.blocking(TENANT)).toBe(error);
    expect(health.blocking(OTHER)).toBeUndefined();
  });

  it("says a refusal is news once per code, so it is logged once and not once per job", () => {
    const health = new CredentialHealth();
    expect(health.refused(TENANT, refusedWith(7000215))).toBe(true);
    expect(health.refused(TENANT, refusedWith(7000215))).toBe(false);
    expect(health.refused(TENANT, refusedWith(7000215))).toBe(false);
    expect(health.refused(TENANT, refusedWith(65001))).toBe(true);
    expect(health.refused(OTHER, refusedWith(65001))).toBe(true);
    expect(health.refusal(TENANT)?.code).toBe("AADSTS65001");
  });

  it("forgets the refusal once a token comes, and says it healed", () => {
    const health = new CredentialHealth();
    expect(health.accepted(TENANT)).toBe(false);
    health.refused(TENANT, refusedWith(65001));
    expect(health.accepted(TENANT)).toBe(true);
    expect(health.refusal(TENANT)).toBeUndefined();
    expect(health.blocking(TENANT)).toBeUndefined();
    expect(health.retryInMs(TENANT)).toBe(0);
    // A refusal after healing is news again.
    expect(health.refused(TENANT, refusedWith(65001))).toBe(true);
  });

  it("names Entra's error code when the answer carried no AADSTS code", () => {
    const health = new CredentialHealth();
    health.refused(
      TENANT,
      new UnauthorizedError("Entra ID refused the credential: invalid_client", { code: "invalid_client" }),
    );
    expect(health.refusal(TENANT)?.code).toBe("invalid_client");
  });
});
