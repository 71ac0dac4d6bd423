/**
 * `mde-cancel doctor` run as a user runs it, against the simulator's many tenants through the
 * real msal-node, and against real Redis (a private redis-server where its policy matters).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import type { DoctorReport } from "../../jobs/doctor/doctor-report.js";
import { ensureServerCert } from "../../sim/certs.js";
import { type Simulator, startSimulator } from "../../sim/server.js";
import { runCli } from "../support/cli.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";
import { redisServer } from "../support/redis-server.js";

const HEALTHY = "0b9a5c1e-4a52-4c1d-9a57-2f1f4a3e8d10";
const NO_ROLES = "c4d5e6f7-0819-4a2b-8c3d-4e5f60718293";
const BAD_SECRET = "5f0d8c2b-7e41-4b6a-8c3d-9e2a1b4c6d7f";
const OTHER_APP = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b";
const SOVEREIGN = "9d3e7f10-2c4b-4a8e-9f61-0a1b2c3d4e5f";
const SPENT = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d";
const CLIENT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const SECRET = "doctor-s3cret-never-printed";
const SCOPE = "https://api.securitycenter.microsoft.com/.default";

const certDir = process.env.MDE_TEST_CERT_DIR ?? join(process.cwd(), ".cache", "test-certs");
const dir = mkdtempSync(join(tmpdir(), "mde-doctor-"));
const prefix = uniquePrefix();
let sim: Simulator;
let env: Record<string, string>;

beforeAll(async () => {
  const pair = ensureServerCert(certDir);
  sim = await startSimulator({
    tls: { key: readFileSync(pair.keyPath), cert: readFileSync(pair.certPath) },
    tenantId: HEALTHY,
    tenantName: "healthy",
    clientId: CLIENT,
    clientSecret: SECRET,
    actions: 3,
    secondAuthority: true,
    tenants: [
      { tenantId: NO_ROLES, name: "no-roles", roles: [] },
      { tenantId: BAD_SECRET, name: "bad-secret", clientSecret: "the-secret-entra-expects" },
      { tenantId: OTHER_APP, name: "other-app", clientId: OTHER_APP },
      { tenantId: SOVEREIGN, name: "sovereign", secondAuthority: true },
      { tenantId: SPENT, name: "spent" },
    ],
  });
  const second = sim.secondAuthorityHost as string;
  const file = join(dir, "tenants.json");
  const own: Record<string, object> = {
    sovereign: { authorityHost: second, apiBaseUrl: second },
    spent: { rateLimits: "1/1h" }, // one list call an hour: doctor's own first call spends it
  };
  const tenants = sim.tenants.map((t) => ({ id: t.id, name: t.name, ...own[t.name] }));
  writeFileSync(file, JSON.stringify({ tenants }));
  env = {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    MDE_TENANTS_FILE: file,
    AZURE_CLIENT_ID: CLIENT,
    AZURE_CLIENT_SECRET: SECRET,
    MDE_API_BASE_URL: sim.url,
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    HTTP_TIMEOUT_MS: "5000",
  };
});
afterAll(async () => {
  await sim?.close();
  await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const listCalls = (tenant: string) =>
  sim.requests.filter((r) => r.endpoint === "list" && r.tenant === tenant && r.status !== 0);
/** Neither the secret nor any token (a JWT starts `eyJ`) is ever printed. */
function expectNoSecrets(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/);
}

describe("mde-cancel doctor", () => {
  it("exits 0 with a table for a healthy tenant, after one list call of $top=1", async () => {
    const run = await runCli(["doctor", "--tenant", "healthy"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^TENANT\s+TOKEN\s+ROLES\s+LIST CALL$/);
    expect(lines[1]).toMatch(/^healthy\s+ok\s+Machine\.Read\.All \+ 7 cancel permissions\s+ok \(200\)$/);
    expect(run.stdout).toContain(": ok, maxmemory-policy noeviction");
    expect(run.stdout).not.toContain("To fix:");
    expect(run.stdout.trimEnd().endsWith("All well.")).toBe(true);
    expect(listCalls(HEALTHY).map((r) => r.query)).toEqual(["?%24top=1"]);
    expectNoSecrets(run.stdout);
  });

  it("checks a tenant of another cloud (named by id) on its own authority and API host", async () => {
    const run = await runCli(["doctor", "--tenant", SOVEREIGN.toUpperCase()], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^sovereign\s+ok\s+.+\s+ok \(200\)$/m);
    expect(listCalls(SOVEREIGN).every((r) => r.authority === "second")).toBe(true);
  });

  it("exits 1 naming the missing permissions when the token carries none of the roles", async () => {
    const run = await runCli(["doctor", "--tenant", "no-roles"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^no-roles\s+ok\s+missing read and cancel\s+403 Forbidden$/m);
    expect(run.stdout).toContain(
      "roles: the token lacks Machine.Read.All or Machine.ReadWrite.All (state checks) and one of " +
        "Machine.CollectForensics, Machine.Isolate, Machine.RestrictExecution, Machine.Scan, " +
        "Machine.Offboard, Machine.StopAndQuarantine, Machine.LiveResponse (cancel)",
    );
    expect(run.stdout).toContain(`consent URL: ${sim.authorityHost}/${NO_ROLES}/v2.0/adminconsent?`);
    expect(run.stdout.trimEnd().endsWith("1 of 1 tenants need attention.")).toBe(true);
  });

  it("names AADSTS7000215 and its fix for a wrong secret, and makes no list call", async () => {
    const run = await runCli(["doctor", "--tenant", "bad-secret"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^bad-secret\s+AADSTS7000215\s+not read \(no token\)\s+not tried \(no token\)$/m,
    );
    expect(run.stdout).toContain("token: AADSTS7000215: invalid client secret; put the secret's Value");
    expect(listCalls(BAD_SECRET)).toHaveLength(0);
    expectNoSecrets(run.stdout);
  });

  it("names AADSTS700016 with this tenant's admin-consent URL for an app not in the tenant", async () => {
    const run = await runCli(["doctor", "--tenant", "other-app"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^other-app\s+AADSTS700016\s/m);
    expect(run.stdout).toContain("the app is not in this tenant");
    const url = `${sim.authorityHost}/${OTHER_APP}/v2.0/adminconsent?client_id=${CLIENT}&scope=${encodeURIComponent(SCOPE)}`;
    expect(run.stdout).toContain(`consent URL: ${url}\n`);
  });

  it("reports a spent list budget as exhausted without calling, and prints every check with --json", async () => {
    const first = await runCli(["doctor", "--tenant", "spent"], env);
    expect(first.code).toBe(0);
    expect(listCalls(SPENT)).toHaveLength(1);

    const run = await runCli(["doctor", "--json"], env);
    expect(run.code).toBe(1);
    expectNoSecrets(run.stdout);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    expect(report.redis).toMatchObject({ status: "ok", maxmemoryPolicy: "noeviction" });
    expect(report.tenants.map((t) => [t.name, t.ok, t.token.status, t.roles.status, t.list.status])).toEqual([
      ["healthy", true, "ok", "ok", "ok"],
      ["no-roles", false, "ok", "failed", "failed"],
      ["bad-secret", false, "failed", "skipped", "skipped"],
      ["other-app", false, "failed", "skipped", "skipped"],
      ["sovereign", true, "ok", "ok", "ok"],
      ["spent", false, "ok", "ok", "failed"],
    ]);
    const [healthy, noRoles, badSecret, otherApp, , spent] = report.tenants;
    expect(healthy).toMatchObject({
      tenantId: HEALTHY,
      authorityHost: sim.authorityHost,
      apiBaseUrl: sim.url,
    });
    expect(healthy?.roles.read).toEqual(["Machine.Read.All"]);
    expect(healthy?.roles.cancel).toHaveLength(7);
    expect(noRoles?.roles).toMatchObject({ roles: [], cancel: [], read: [] });
    expect(noRoles?.list).toMatchObject({ httpStatus: 403 });
    expect(badSecret?.token).toMatchObject({ code: "AADSTS7000215", meaning: "invalid client secret" });
    expect(otherApp?.token.consentUrl).toContain(`/${OTHER_APP}/v2.0/adminconsent?client_id=${CLIENT}`);
    // The hour's one list call is spent: reported at once, without a call.
    expect(spent?.list).toMatchObject({ summary: "budget exhausted", budget: "budget" });
    expect(spent?.list.budgetFreeInMs).toBeGreaterThan(3_000_000);
    expect(listCalls(SPENT)).toHaveLength(1);
  });

  it("exits 1 naming Redis's eviction policy when it is not noeviction, and when Redis is down", async () => {
    const redis = await redisServer([
      "--maxmemory-policy",
      "allkeys-lru",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    try {
      const run = await runCli(["doctor", "--tenant", "healthy"], { ...env, REDIS_URL: redis.url });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^healthy\s+ok\s+.+\s+ok \(200\)$/m);
      expect(run.stdout).toContain(`Redis ${redis.url}: maxmemory-policy allkeys-lru`);
      expect(run.stdout).toContain("set maxmemory-policy noeviction");
      expect(run.stdout.trimEnd().endsWith("Redis needs attention.")).toBe(true);
    } finally {
      await redis.shutdown();
    }
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    const down = await runCli(["doctor", "--tenant", "healthy", "--json"], { ...env, REDIS_URL: nobody });
    expect(down.code).toBe(1);
    const report = JSON.parse(down.stdout) as DoctorReport;
    expect(report.redis).toMatchObject({ status: "failed", summary: "no answer" });
    expect(report.redis.fix).toContain("start Redis or set REDIS_URL");
    expect(report.tenants[0]?.token.status).toBe("ok");
    expect(report.tenants[0]?.list).toMatchObject({ status: "skipped", summary: "not tried (Redis down)" });
  });

  it("exits 2 naming a tenant that is not in the file, before asking Entra ID anything", async () => {
    const before = sim.requests.length;
    const run = await runCli(["doctor", "--tenant", "nobody"], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('--tenant "nobody" is not a tenant of MDE_TENANTS_FILE');
    expect(run.stderr).toContain("healthy, no-roles, bad-secret, other-app, sovereign, spent");
    expect(sim.requests.length).toBe(before);
  });
});
