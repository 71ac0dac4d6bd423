import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { runCli } from "../support/cli.js";
import { type Harness, SECRET, startHarness } from "../support/harness.js";
import { waitFor } from "../support/wait.js";
import { countBy, expectNoSecrets, record, resultTally, track } from "./support/evidence.js";

let h: Harness | undefined;
afterEach(async () => {
  if (h) expectNoSecrets(h.sim, h.logs);
  await h?.close();
  h = undefined;
});

const pending = (n: number) =>
  Array.from({ length: n }, () => h?.sim.store.add({ status: "Pending" }).id as string);
const cancel = (ids: string[]) =>
  h?.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "token" })));

describe("token trouble", () => {
  it("keeps the worker up while Entra ID is down at start; jobs wait without spending attempts, then finish", async () => {
    const port = await freePort();
    h = await startHarness({
      env: { METRICS_PORT: String(port), METRICS_HOST: "127.0.0.1", MAX_ATTEMPTS: "2" },
    });
    const sim = h.sim;
    let down = true;
    // Down = connections to the token endpoint dropped unanswered.
    sim.injectFault({ endpoint: "token", reset: true, times: 1_000_000, match: () => down });
    await h.startWorker();
    await cancel(pending(5));
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const tokenDelays = async () =>
      Number(/mde_cancel_job_delays_total\{reason="token"\} (\d+)/.exec(await metrics())?.[1] ?? 0);
    await waitFor("10 token delays (each job twice)", async () => (await tokenDelays()) >= 10, 30_000, 200);
    const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
    const status = await runCli(["status", "--json"], h.env);
    track(status.stdout, status.stderr);
    const delaysWhileDown = await tokenDelays();
    const tokenCallsWhileDown = sim.tokenRequests();
    down = false;
    const upAt = Date.now();
    const defenderCallsWhileDown = sim.requests.filter(
      (r) => ["get", "cancel", "list"].includes(r.endpoint) && r.at < upAt,
    ).length;

    const results = await h.results(5, 60_000);
    const figures = {
      jobs: 5,
      results: results.length,
      outcomes: countBy(results, (r) => `${r.outcome}/attempts=${r.attempts}`),
      tokenDelaysWhileDown: delaysWhileDown,
      tokenCallsWhileDown,
      statusExit: status.code,
      defenderCallsWhileDown,
    };
    record("token-down-at-start", figures);
    expect(healthz.status).toBe(200);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).jobs[h.config.cancelQueue]).toBeDefined();
    // MAX_ATTEMPTS is 2 and each job waited more often than that: no attempt was spent.
    expect(results.map((r) => [r.outcome, r.attempts])).toEqual(Array(5).fill(["cancelled", 1]));
    expect(defenderCallsWhileDown).toBe(0);
    // One state check per job once Entra ID is back: GETs, or list calls carrying several.
    expect(sim.requestCount("get") + sim.requestCount("list")).toBeGreaterThanOrEqual(1);
    expect(sim.requestCount("get") + sim.requestCount("list")).toBeLessThanOrEqual(5);
    expect(sim.requestCount("cancel")).toBe(5);
  });

  it("fails unauthorized on a wrong secret, with a log line naming the AADSTS code and not the secret", async () => {
    h = await startHarness({ env: { AZURE_CLIENT_SECRET: "wrong-Secret-value-42" } });
    await h.startWorker();
    await cancel(pending(3));
    const results = await h.results(3);
    const named = h.logs.filter((l) => l.includes("AADSTS7000215"));
    record("token-wrong-secret", {
      jobs: 3,
      outcomes: countBy(results, (r) => `${r.outcome}/${r.error?.code}`),
      logLinesNamingAadsts: named.length,
      defenderCalls: h.sim.requests.filter((r) => ["get", "cancel", "list"].includes(r.endpoint)).length,
    });
    expect(results.every((r) => r.outcome === "failed" && r.error?.code === "unauthorized")).toBe(true);
    expect(named.length).toBeGreaterThanOrEqual(3);
    expect(named[0]).toMatch(/credential refused/);
    // Logged as an error once, not once per job; each job's own line carries the code as its reason.
    expect(named.filter((l) => JSON.parse(l).level >= 50)).toHaveLength(1);
    expect(h.logs.some((l) => l.includes("wrong-Secret-value-42") || l.includes(SECRET))).toBe(false);
    expect(JSON.stringify(results)).not.toContain("wrong-Secret-value-42");
  });

  it("refreshes once when tokens are revoked mid-run, and the run goes on", async () => {
    h = await startHarness({ sim: { rateLimits: [], latencyMs: 20 }, env: { MDE_RATE_LIMITS: "100000/1m" } });
    await h.startWorker();
    await cancel(pending(60));
    await waitFor("20 results", async () => ((await h?.resultsQueue.count()) ?? 0) >= 20);
    h.sim.revokeTokens();
    const revokedAt = Date.now();
    await h.results(60, 30_000);
    const { results, duplicates } = await resultTally(h.resultsQueue);
    const rejected = h.sim.requests.filter((r) => r.status === 401).length;
    record("token-revoked", {
      jobs: 60,
      results: results.length,
      duplicates,
      outcomes: countBy(results, (r) => r.outcome),
      answered401: rejected,
      tokenRequests: h.sim.tokenRequests(),
      callsAfterRevoke: h.sim.requests.filter((r) => r.at >= revokedAt).length,
    });
    expect(results.map((r) => r.outcome)).toEqual(Array(60).fill("cancelled"));
    expect(duplicates).toBe(0);
    expect(rejected).toBeGreaterThan(0);
    expect(h.sim.tokenRequests()).toBe(2);
  });
});
