import { describe, expect, it } from "vitest";
import { DeliveryAttempt } from "../../intake/callbacks/delivery-attempt.js";
import { UsageError } from "../../shared/core/errors.js";

const policy = { allowedHosts: [], resolve: async () => [] };

describe("the delivery's signing secret", () => {
  it("must be whsec_<base64>; the refusal names the variable, never the value", () => {
    const short = `whsec_${Buffer.alloc(20, 7).toString("base64")}`; // 20 bytes: under the spec's 24
    for (const secret of ["hunter2-plain-text", "whsec_", short, ""]) {
      let thrown: unknown;
      try {
        new DeliveryAttempt(secret, policy, async () => undefined);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(UsageError);
      expect((thrown as Error).message).toMatch(/^INTAKE_WEBHOOK_SECRET must be whsec_/);
      if (secret.length > 6) expect((thrown as Error).message).not.toContain(secret);
    }
    const key = Buffer.alloc(24, 7).toString("base64");
    expect(() => new DeliveryAttempt(`whsec_${key}`, policy, async () => undefined)).not.toThrow();
  });
});
