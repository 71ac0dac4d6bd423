import { afterEach, describe, expect, it } from "vitest";
import { startTestIntake, type TestIntake } from "../support/intake.js";

const intakes: TestIntake[] = [];
afterEach(async () => {
  for (const i of intakes.splice(0)) await i.close();
});

describe("INTAKE_RATE_LIMIT", () => {
  it("answers 429 problem+json with Retry-After in whole seconds once a key spent its window, per key", async () => {
    const intake = await startTestIntake({ env: { INTAKE_RATE_LIMIT: "3/1m" } });
    intakes.push(intake);
    const busy = await intake.newKey({ name: "busy" });
    const quiet = await intake.newKey({ name: "quiet" });
    for (let i = 0; i < 3; i++)
      expect((await intake.call("GET", "/v1/campaigns/c-x", { key: busy })).status).toBe(404);
    const refused = await intake.call("GET", "/v1/campaigns/c-x", { key: busy });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const retryAfter = refused.headers.get("retry-after") ?? "";
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body.detail).toContain("INTAKE_RATE_LIMIT");
    // Another key has a window of its own; the probes count against none.
    expect((await intake.call("GET", "/v1/campaigns/c-x", { key: quiet })).status).toBe(404);
    expect((await intake.call("GET", "/healthz")).status).toBe(200);
  });

  it("shares each key's window between serve processes (the counters live in Redis)", async () => {
    const first = await startTestIntake({ env: { INTAKE_RATE_LIMIT: "2/1m" } });
    intakes.push(first);
    const second = await startTestIntake({
      env: { QUEUE_PREFIX: first.config.queuePrefix, INTAKE_RATE_LIMIT: "2/1m" },
    });
    intakes.push(second);
    const key = await first.newKey();
    expect((await first.call("GET", "/v1/campaigns/c-x", { key })).status).toBe(404);
    expect((await second.call("GET", "/v1/campaigns/c-x", { key })).status).toBe(404);
    expect((await first.call("GET", "/v1/campaigns/c-x", { key })).status).toBe(429);
  });
});
