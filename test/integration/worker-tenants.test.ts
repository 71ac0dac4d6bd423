/**
 * One worker serving three tenants (issue 14), with the real msal-node against the simulator:
 * each tenant its own authority, credential, API host and budget, and one tenant's refusal
 * touching no other.
 */
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { enqueueCancels } from "../../jobs/enqueue.js";
import { type Harness, newActionId } from "../support/harness.js";
import { sample } from "../support/prom-sample.js";
import {
  BAD_SECRET,
  BUDGETS,
  busiestWindow,
  HEALTHY,
  SOVEREIGN,
  startTenantsHarness,
  tenantEntries,
  writeTenantsFile,
} from "../support/tenants.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function readyz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A harness whose worker serves the three tenants of test/support/tenants.ts. */
async function threeTenants(env: Record<string, string> = {}) {
  const port = await freePort();
  const { harness, file, entries } = await startTenantsHarness({ METRICS_PORT: String(port), ...env });
  writeTenantsFile(file, [entries.healthy, entries.badSecret, entries.sovereign], "healthy");
  return { harness, port, file };
}

/** Adds `n` Pending actions to a tenant of the simulator, as its Defender would hold them. */
function pending(harness: Harness, tenant: string, n: number): string[] {
  const store = harness.sim.tenant(tenant)?.store;
  return Array.from({ length: n }, () => store?.add({ status: "Pending" }).id as string);
}

describe("a worker serving three tenants", () => {
  it("cancels the healthy tenants' jobs, each within its own budget, and fails only the refused tenant's, naming AADSTS7000215", async () => {
    // One GET per check, so each tenant's get budget is what paces its six or four checks.
    const setup = await threeTenants({ CHECK_GATHER_MS: "0" });
    h = setup.harness;
    await h.startWorker();
    const healthy = pending(h, "healthy", 6);
    const refused = pending(h, "bad-secret", 3);
    const sovereign = pending(h, "sovereign", 4);
    await h.enqueue([
      ...healthy.map((machineActionId) => ({ machineActionId, comment: "fp", tenantId: HEALTHY })),
      ...refused.map((machineActionId) => ({ machineActionId, comment: "fp", tenantId: BAD_SECRET })),
      // A foreign producer may name the tenant by its name: the worker resolves it.
      ...sovereign.map((machineActionId) => ({ machineActionId, comment: "fp", tenantId: "sovereign" })),
    ]);
    const results = await h.results(13, 45_000);
    const of = (tenantId: string) => results.filter((r) => r.tenantId === tenantId);
    expect(of(HEALTHY).map((r) => r.outcome)).toEqual(Array(6).fill("cancelled"));
    expect(of(SOVEREIGN).map((r) => r.outcome)).toEqual(Array(4).fill("cancelled"));
    expect(of(BAD_SECRET)).toHaveLength(3);
    for (const r of of(BAD_SECRET)) {
      expect(r).toMatchObject({ outcome: "failed", error: { code: "unauthorized" } });
      expect(r.error?.message).toMatch(/AADSTS7000215/);
    }
    // The sovereign tenant got its token from, and was served by, the second authority host only.
    const requests = h.sim.requests;
    const sovereignCalls = requests.filter((r) => r.tenant === SOVEREIGN);
    expect(sovereignCalls.length).toBeGreaterThan(0);
    expect(sovereignCalls.every((r) => r.authority === "second")).toBe(true);
    // The refused tenant never reached Defender; the others were never throttled.
    expect(requests.filter((r) => r.tenant === BAD_SECRET && r.endpoint !== "token")).toEqual([]);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    // Each tenant's windows held, counted at arrival, by its own budget's size.
    for (const [tenantId, [window]] of [
      [HEALTHY, BUDGETS.healthy],
      [SOVEREIGN, BUDGETS.sovereign],
    ] as const) {
      for (const endpoint of ["get", "cancel"]) {
        const arrivals = requests
          .filter((r) => r.tenant === tenantId && r.endpoint === endpoint)
          .map((r) => r.at);
        expect(busiestWindow(arrivals, window?.windowMs ?? 0), `${tenantId} ${endpoint}`).toBeLessThanOrEqual(
          window?.limit ?? 0,
        );
      }
    }
    // With two budgets full, the fuller one (six gets at three per window) needed its own windows.
    const healthyGets = requests.filter((r) => r.tenant === HEALTHY && r.endpoint === "get").map((r) => r.at);
    expect(Math.max(...healthyGets) - Math.min(...healthyGets)).toBeGreaterThanOrEqual(2_000);

    // Metrics carry the tenant's name from the file.
    const text = await (await fetch(`http://127.0.0.1:${setup.port}/metrics`)).text();
    expect(sample(text, 'mde_cancel_jobs_total{outcome="cancelled",tenant="healthy"}')).toBe(6);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="cancelled",tenant="sovereign"}')).toBe(4);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="failed",tenant="bad-secret"}')).toBe(3);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="failed",tenant="healthy"}')).toBe(0);
    expect(sample(text, 'mde_api_requests_total{endpoint="cancel",status="200",tenant="sovereign"}')).toBe(4);
    expect(sample(text, 'mde_api_requests_total{tenant="bad-secret"}')).toBeUndefined();
    expect(sample(text, 'mde_api_throttled_total{endpoint="get",tenant="sovereign"}')).toBe(0);
    expect(
      sample(text, 'mde_rate_limit_budget_left{tenant="sovereign",endpoint="get",window="2s"}'),
    ).toBeDefined();
    expect(text).not.toMatch(new RegExp(`tenant="${HEALTHY}"`));

    // Ready while any tenant works, naming the refused one.
    const ready = await readyz(setup.port);
    expect(ready.status).toBe(200);
    expect(ready.body.refused).toEqual([
      { tenant: "bad-secret", tenantId: BAD_SECRET, code: "AADSTS7000215" },
    ]);
  });

  it("fails a foreign job naming a tenant not in the file unknown_tenant, without any call to Entra ID", async () => {
    h = (await threeTenants()).harness;
    const running = await h.startWorker();
    // Every tenant's token asked for at start, then forgotten: what follows is the job's doing.
    await waitFor("a token request per tenant", () => running.tokens.acquired >= 2);
    await waitFor("the refused tenant's answer", () => running.tokens.health.refusal(BAD_SECRET));
    h.sim.requests.length = 0;
    // Added by a producer that knows no tenants file (enqueueCancels without a directory).
    await enqueueCancels(
      h.cancelQueue,
      [{ machineActionId: newActionId(), comment: "x", tenantId: "nobody" }],
      {},
    );
    const [result] = await h.results(1);
    expect(result).toMatchObject({
      outcome: "failed",
      tenantId: "nobody",
      error: { code: "unknown_tenant" },
    });
    expect(result?.error?.message).toMatch(/tenant nobody is not in MDE_TENANTS_FILE/);
    expect(h.sim.requests).toEqual([]);
  });

  it("names AADSTS90002 when a tenant sits in another cloud than its authorityHost (no discovery hides it)", async () => {
    const setup = await threeTenants();
    h = setup.harness;
    const { healthy, sovereign } = tenantEntries(h.sim);
    // The GCC High customer configured with the commercial authority: Entra ID does not know it there.
    writeTenantsFile(setup.file, [healthy, { ...sovereign, authorityHost: h.sim.authorityHost }], "healthy");
    await h.startWorker();
    const [lost] = pending(h, "sovereign", 1);
    const [fine] = pending(h, "healthy", 1);
    await h.enqueue([
      { machineActionId: lost as string, comment: "x", tenantId: SOVEREIGN },
      { machineActionId: fine as string, comment: "x", tenantId: HEALTHY },
    ]);
    const results = await h.results(2);
    const byTenant = Object.fromEntries(results.map((r) => [r.tenantId, r]));
    expect(byTenant[SOVEREIGN]).toMatchObject({ outcome: "failed", error: { code: "unauthorized" } });
    expect(byTenant[SOVEREIGN]?.error?.message).toMatch(/AADSTS90002/);
    expect(byTenant[HEALTHY]?.outcome).toBe("cancelled");
    // msal asked for the token straight away: no OpenID discovery request at all.
    expect(h.sim.requests.filter((r) => r.endpoint === "openid")).toEqual([]);
  });

  it("answers /readyz 503 when every tenant's credential is refused, naming each", async () => {
    const setup = await threeTenants({ AZURE_CLIENT_SECRET: "wrong-Secret-for-all-7" });
    h = setup.harness;
    await h.startWorker();
    const notReady = await waitFor("/readyz to answer 503", async () => {
      const answer = await readyz(setup.port);
      return answer.status === 503 ? answer : undefined;
    });
    expect(notReady.body.reason).toMatch(
      /^Entra ID refused the credential of every tenant \(healthy: AADSTS7000215, bad-secret: AADSTS7000215, sovereign: AADSTS7000215\)/,
    );
    expect((notReady.body.refused as unknown[]).length).toBe(3);
    expect(JSON.stringify(notReady.body)).not.toContain("wrong-Secret-for-all-7");
  });
});
