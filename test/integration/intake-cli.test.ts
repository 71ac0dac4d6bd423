import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { hashKey } from "../../shared/redis/api-key-store.js";
import { collect, runCli, startCli } from "../support/cli.js";
import { TENANT } from "../support/harness.js";
import { startTestIntake, type TestIntake } from "../support/intake.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

const prefix = uniquePrefix();
const env = { REDIS_URL, QUEUE_PREFIX: prefix, AZURE_TENANT_ID: TENANT };
let intake: TestIntake | undefined;
afterEach(async () => {
  await intake?.close();
  intake = undefined;
  await deleteKeys(prefix);
});

/** Every value stored under the prefix, for a search for the key itself. */
async function everythingStored(): Promise<string> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    const values = await Promise.all(keys.map(async (k) => JSON.stringify(await redis.hgetall(k))));
    return values.join("\n");
  } finally {
    redis.disconnect();
  }
}

describe("mde-cancel api-keys", () => {
  it("creates a key shown once, lists it without key or hash, stores only its SHA-256, revokes it (401)", async () => {
    const created = await runCli(
      ["api-keys", "create", "--name", "sentinel", "--tenant", TENANT.toUpperCase()],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    // mdk_ + base64url of 32 random bytes: 256 bits.
    expect(key).toMatch(/^mdk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(4), "base64url")).toHaveLength(32);
    expect(created.stderr).toMatch(/shown this once/);

    const json = await runCli(["api-keys", "create", "--name", "n8n", "--read-only", "--json"], env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(Object.keys(parsed)).toEqual(["name", "key"]);
    expect(parsed.name).toBe("n8n");

    const stored = await everythingStored();
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(parsed.key);
    expect(stored).toContain(hashKey(key));

    const listed = await runCli(["api-keys", "list"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^n8n\tall tenants\tread-only\t/m);
    expect(listed.stdout).toMatch(new RegExp(`^sentinel\\t${TENANT}\\tread-write\\t`, "m"));
    const listedJson = await runCli(["api-keys", "list", "--json"], env);
    for (const output of [listed.stdout, listedJson.stdout]) {
      expect(output).not.toContain(key);
      expect(output).not.toContain(hashKey(key));
    }

    intake = await startTestIntake({ env });
    expect((await intake.call("GET", "/v1/campaigns/c-x", { key })).status).toBe(404);
    const revoked = await runCli(["api-keys", "revoke", "sentinel"], env);
    expect(revoked.code).toBe(0);
    expect((await intake.call("GET", "/v1/campaigns/c-x", { key })).status).toBe(401);
    expect((await runCli(["api-keys", "list"], env)).stdout).not.toContain("sentinel");
  });

  it("refuses with exit 2: a taken name, an unknown tenant, an unknown key to revoke, a missing --name", async () => {
    expect((await runCli(["api-keys", "create", "--name", "dup"], env)).code).toBe(0);
    for (const args of [
      ["create", "--name", "dup"],
      ["create", "--name", "x", "--tenant", "fabrikam"],
      ["create", "--name", "bad name"],
      ["revoke", "nobody"],
      ["create"],
    ]) {
      const run = await runCli(["api-keys", ...args], env);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).not.toContain("    at ");
    }
  });
});

describe("mde-cancel serve", () => {
  it("serves until SIGTERM, then exits 0", async () => {
    const port = await freePort();
    const child = startCli(["serve"], { ...env, INTAKE_PORT: String(port), INTAKE_HOST: "127.0.0.1" });
    const done = collect(child);
    await waitFor(
      "serve to answer /healthz",
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
    );
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    child.kill("SIGTERM");
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("intake stopped");
  });

  it("refuses a malformed setting with exit 2 naming it, and never echoes the webhook secret", async () => {
    const rate = await runCli(["serve"], { ...env, INTAKE_RATE_LIMIT: "600/1m,10/1s" });
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain("INTAKE_RATE_LIMIT");
    const secret = "whsec_c2hvcnQ=";
    const weak = await runCli(["serve"], { ...env, INTAKE_WEBHOOK_SECRET: secret });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain("INTAKE_WEBHOOK_SECRET");
    expect(weak.stderr).not.toContain(secret);
  });
});
