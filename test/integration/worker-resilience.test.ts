import { afterEach, describe, expect, it } from "vitest";
import { ensureClientCert } from "../../sim/certs.js";
import { certDir, type Harness, startHarness } from "../support/harness.js";
import { waitFor } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const requestsTo = (endpoint: string) => h.sim.requests.filter((r) => r.endpoint === endpoint);
const pendingActions = (n: number) =>
  Array.from({ length: n }, () => h.sim.store.add({ status: "Pending" }).id);
const cancelAll = (ids: string[]) =>
  h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "stop" })));

describe("worker resilience", () => {
  it("retries 5xx, timeouts and dropped connections, then cancels", async () => {
    // A timeout far above what a loaded machine takes to answer, and a delay far above the timeout:
    // only the injected slow GET times out, so the attempts counted below are the faults' alone.
    h = await startHarness({ env: { HTTP_TIMEOUT_MS: "3000" } });
    const id = pendingActions(1)[0] as string;
    h.sim.injectFault({ endpoint: "get", status: 500 });
    h.sim.injectFault({ endpoint: "get", delayMs: 15_000 });
    h.sim.injectFault({ endpoint: "cancel", reset: true, times: 2 });
    await h.startWorker();
    await cancelAll([id]);
    const [result] = await h.results(1, 30_000);
    expect(result).toMatchObject({ outcome: "cancelled", status: "Cancelled" });
    // The 500 and the timeout each spent an attempt; the dropped cancel went again at once, after a look
    // found the action still Pending, then backed off.
    expect(result?.attempts).toBe(4);
    expect(requestsTo("cancel").length).toBeGreaterThanOrEqual(3);
  });

  it("looks before cancelling again when a cancel's answer is lost: cancelled, one POST, no 400", async () => {
    h = await startHarness();
    const id = pendingActions(1)[0] as string;
    // Defender applies the cancel, then the connection drops before its answer.
    h.sim.injectFault({ endpoint: "cancel", dropAnswer: true });
    await h.startWorker();
    await cancelAll([id]);
    const [result] = await h.results(1);
    expect(result).toMatchObject({ outcome: "cancelled", status: "Cancelled", error: null });
    expect(requestsTo("cancel").map((r) => r.status)).toEqual([0]);
    expect(h.sim.requests.filter((r) => r.status === 400)).toHaveLength(0);
    // The state was checked right after the drop: a GET before the cancel, one after.
    expect(requestsTo("get")).toHaveLength(2);
  });

  it("fails upstream after MAX_ATTEMPTS transient failures", async () => {
    h = await startHarness({ env: { MAX_ATTEMPTS: "2" } });
    const id = pendingActions(1)[0] as string;
    h.sim.injectFault({ endpoint: "get", status: 503, times: 10 });
    await h.startWorker();
    await cancelAll([id]);
    const [result] = await h.results(1);
    expect(result).toMatchObject({
      outcome: "failed",
      attempts: 2,
      error: { code: "upstream", httpStatus: 503 },
    });
    expect(requestsTo("get")).toHaveLength(2);
  });

  it("pauses every worker's calls to an endpoint after a 429, for Retry-After, without spending attempts", async () => {
    // One GET per check, so the jobs after the 429 all meet the paused endpoint (a batched check is a list call).
    h = await startHarness({ env: { CHECK_GATHER_MS: "0" } });
    const harness = h;
    const ids = pendingActions(6);
    harness.sim.injectFault({ endpoint: "get", status: 429, headers: { "Retry-After": "4" } });
    await harness.startWorker();
    await harness.startWorker();
    await cancelAll(ids.slice(0, 1));
    await waitFor("the 429", () => requestsTo("get").find((r) => r.status === 429));
    // Enqueued after the 429 came back, so none of these is on the wire already: whichever worker
    // takes them must hold their GETs until the 4 s are over. A busy machine only delays them more.
    await cancelAll(ids.slice(1));
    const results = await harness.results(6);
    expect(results.every((r) => r.outcome === "cancelled" && r.attempts === 1)).toBe(true);
    const [throttled, ...later] = requestsTo("get");
    expect(throttled?.status).toBe(429);
    expect(later).toHaveLength(6);
    for (const r of later) expect(r.at - (throttled?.at as number)).toBeGreaterThanOrEqual(3_900);
  });

  it("treats a 503 with Retry-After as a throttle: it waits, spending no attempt", async () => {
    h = await startHarness({ env: { MAX_ATTEMPTS: "1" } });
    h.sim.injectFault({ endpoint: "cancel", status: 503, headers: { "Retry-After": "1" }, times: 2 });
    await h.startWorker();
    await cancelAll(pendingActions(1));
    const [result] = await h.results(1);
    expect(result).toMatchObject({ outcome: "cancelled", attempts: 1 });
    const cancels = requestsTo("cancel");
    expect(cancels.map((r) => r.status)).toEqual([503, 503, 200]);
    expect((cancels[1]?.at as number) - (cancels[0]?.at as number)).toBeGreaterThanOrEqual(950);
  });

  it("refreshes a rejected token once, for all the jobs that saw it", async () => {
    h = await startHarness();
    await h.startWorker();
    await cancelAll(pendingActions(1));
    await h.results(1);
    expect(h.sim.tokenRequests()).toBe(1);
    h.sim.revokeTokens();
    await cancelAll(pendingActions(5));
    const results = await h.results(6);
    expect(results.every((r) => r.outcome === "cancelled")).toBe(true);
    expect(h.sim.tokenRequests()).toBe(2);
  });

  it("fails unauthorized when Defender rejects even a fresh token", async () => {
    h = await startHarness();
    h.sim.injectFault({ endpoint: "get", status: 401, times: 2, body: { error: { code: "Unauthorized" } } });
    await h.startWorker();
    await cancelAll(pendingActions(1));
    const [result] = await h.results(1);
    expect(result).toMatchObject({ outcome: "failed", error: { code: "unauthorized", httpStatus: 401 } });
    expect(h.sim.tokenRequests()).toBe(2);
  });

  it("asks Entra ID once for a cold worker running ten jobs at once", async () => {
    h = await startHarness();
    await cancelAll(pendingActions(10));
    await h.startWorker();
    await h.results(10);
    expect(h.sim.tokenRequests()).toBe(1);
  });

  it("fails unauthorized when Entra ID refuses the credential (AADSTS), and waits when it is down", async () => {
    h = await startHarness({ env: { AZURE_CLIENT_SECRET: "wrong-secret" } });
    await h.startWorker();
    await cancelAll(pendingActions(1));
    const [refused] = await h.results(1);
    expect(refused).toMatchObject({ outcome: "failed", error: { code: "unauthorized" } });
    expect(refused?.error?.message).toMatch(/AADSTS7000215/);
    expect(requestsTo("get")).toHaveLength(0);
    await h.close();

    // Entra ID down (connections reset): the job waits in the delayed set, spending no attempt, and
    // finishes once Entra ID answers again.
    h = await startHarness({ env: { MAX_ATTEMPTS: "1" } });
    const harness = h;
    harness.sim.injectFault({ endpoint: "token", reset: true, times: 3 });
    await harness.startWorker();
    const [job] = await cancelAll(pendingActions(1));
    const jobId = job?.jobId as string;
    await waitFor("the job to wait for Entra ID", async () => {
      const state = await harness.cancelQueue.getJobState(jobId);
      return state === "delayed" && harness.sim.tokenRequests() >= 1;
    });
    expect(await harness.resultsQueue.count()).toBe(0);
    expect(requestsTo("get")).toHaveLength(0);
    const [result] = await harness.results(1, 30_000);
    expect(result).toMatchObject({ outcome: "cancelled", attempts: 1 });
    expect(harness.sim.tokenRequests()).toBeGreaterThanOrEqual(4);
  });

  it("waits while Entra ID answers 5xx, spending no attempt, then succeeds", async () => {
    h = await startHarness({ env: { MAX_ATTEMPTS: "1" } });
    h.sim.injectFault({ endpoint: "token", status: 503, headers: { "Retry-After": "1" }, times: 3 });
    await h.startWorker();
    await cancelAll(pendingActions(1));
    const [result] = await h.results(1, 30_000);
    expect(result).toMatchObject({ outcome: "cancelled", attempts: 1 });
    expect(h.sim.tokenRequests()).toBe(4);
  });

  it("signs in with a certificate credential (SHA-256 thumbprint derived from the PEM)", async () => {
    const { certPath, keyPath } = ensureClientCert(certDir);
    const { readFileSync, writeFileSync } = await import("node:fs");
    const pemPath = `${certDir}/client-bundle.pem`;
    writeFileSync(pemPath, readFileSync(certPath, "utf8") + readFileSync(keyPath, "utf8"));
    h = await startHarness({ env: { AZURE_CLIENT_SECRET: "", AZURE_CLIENT_CERTIFICATE_PATH: pemPath } });
    await h.startWorker();
    await cancelAll(pendingActions(1));
    const [result] = await h.results(1);
    expect(result?.outcome).toBe("cancelled");
  });
});
