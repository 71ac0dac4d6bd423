import { afterEach, describe, expect, it } from "vitest";
import { type Harness, newActionId, OTHER_TENANT, SECRET, startHarness } from "../support/harness.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const requestsTo = (endpoint: string) => h.sim.requests.filter((r) => r.endpoint === endpoint);

describe("the cancel worker, end to end on real Redis, HTTPS and msal-node", () => {
  it("reaches each of the four outcomes and publishes one result per job", async () => {
    h = await startHarness();
    const pending = h.sim.store.add({ status: "Pending" }).id;
    const done = h.sim.store.add({ status: "Succeeded" }).id;
    const missing = newActionId();
    const forbidden = h.sim.store.add({ status: "InProgress" }).id;
    h.sim.injectFault({
      endpoint: "cancel",
      status: 403,
      body: { error: { code: "Forbidden", message: "no permission", target: "t-403" } },
      match: (req) => req.path.includes(forbidden),
    });
    await h.startWorker();
    const enqueued = await h.enqueue(
      [pending, done, missing, forbidden].map((machineActionId) => ({ machineActionId, comment: "stop it" })),
    );
    expect(enqueued.every((e) => e.added)).toBe(true);

    const results = await h.results(4);
    const by = (id: string) => results.find((r) => r.machineActionId === id);
    expect(by(pending)).toMatchObject({
      outcome: "cancelled",
      status: "Cancelled",
      error: null,
      attempts: 1,
    });
    expect(by(pending)?.action?.cancellationComment).toBe("stop it");
    expect(by(done)).toMatchObject({ outcome: "already_terminal", status: "Succeeded" });
    expect(by(missing)).toMatchObject({ outcome: "not_found", status: null, action: null });
    expect(by(forbidden)).toMatchObject({
      outcome: "failed",
      error: { code: "forbidden", httpStatus: 403, target: "t-403" },
    });
    expect(h.sim.store.get(pending)?.status).toBe("Cancelled");
    // Only the pending and the forbidden action were worth a cancel.
    expect(requestsTo("cancel")).toHaveLength(2);

    // The job's return value is its result too, and carries the contract's fields.
    const job = await h.cancelQueue.getJob(enqueued[0]?.jobId as string);
    expect(job?.returnvalue).toMatchObject({ jobId: enqueued[0]?.jobId, outcome: "cancelled" });
    for (const r of results) {
      expect(Object.keys(r).sort()).toEqual(
        [
          "action",
          "attempts",
          "campaignId",
          "comment",
          "correlationId",
          "enqueuedAt",
          "error",
          "finishedAt",
          "jobId",
          "machineActionId",
          "outcome",
          "requestedBy",
          "status",
          "tenantId",
        ].sort(),
      );
    }
  });

  for (const mode of ["400", "403", "200"] as const) {
    it(`reports already_terminal when the action finishes between check and cancel (cancel answers ${mode})`, async () => {
      h = await startHarness({ sim: { terminalCancel: mode } });
      const id = h.sim.store.add({ status: "Pending" }).id;
      // The action completes the moment the cancel arrives, after the worker's check saw it Pending.
      h.sim.injectFault({
        endpoint: "cancel",
        match: () => {
          h.sim.store.setStatus(id, "Succeeded");
          return false;
        },
      });
      await h.startWorker();
      await h.enqueue([{ machineActionId: id, comment: "race" }]);
      const [result] = await h.results(1);
      if (mode === "200") {
        // Defender accepted the cancel (entity unchanged): this job's cancel was accepted.
        expect(result).toMatchObject({ outcome: "cancelled", status: "Succeeded" });
      } else {
        expect(result).toMatchObject({ outcome: "already_terminal", status: "Succeeded" });
        expect(requestsTo("get")).toHaveLength(2);
      }
    });
  }

  it("re-checks a fresh action that 404s for a moment, then cancels it", async () => {
    h = await startHarness({ sim: { notFoundLagMs: 1_500 }, env: { NOT_FOUND_GRACE_MS: "10000" } });
    const id = h.sim.store.add({ status: "Pending" }).id;
    await h.startWorker();
    await h.enqueue([{ machineActionId: id, comment: "late" }]);
    const [result] = await h.results(1);
    expect(result).toMatchObject({ outcome: "cancelled", attempts: 1 });
    const gets = requestsTo("get");
    expect(gets.filter((r) => r.status === 404).length).toBeGreaterThanOrEqual(1);
    expect(gets.at(-1)?.status).toBe(200);
  });

  it("gives up on a 404 after NOT_FOUND_GRACE_MS, each re-check spending a GET", async () => {
    h = await startHarness({ env: { NOT_FOUND_GRACE_MS: "2500" } });
    await h.startWorker();
    const started = Date.now();
    await h.enqueue([{ machineActionId: newActionId(), comment: "ghost" }]);
    const [result] = await h.results(1);
    expect(result?.outcome).toBe("not_found");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    // 1 s, 2 s back-off inside 2.5 s: the first check and at least two re-checks.
    expect(requestsTo("get").length).toBeGreaterThanOrEqual(3);
    expect(requestsTo("get").length).toBeLessThanOrEqual(5);
  });

  it("fails a job for a foreign tenant as unknown_tenant without asking Entra ID", async () => {
    h = await startHarness();
    await h.startWorker();
    await h.forgetStartupRequests();
    await h.enqueue([{ machineActionId: newActionId(), comment: "x", tenantId: OTHER_TENANT }]);
    const [result] = await h.results(1);
    expect(result).toMatchObject({
      outcome: "failed",
      tenantId: OTHER_TENANT,
      error: { code: "unknown_tenant" },
    });
    expect(h.sim.requests).toHaveLength(0);
  });

  it("turns an invalid payload added straight to the queue into invalid_job with zero HTTP calls", async () => {
    h = await startHarness();
    await h.startWorker();
    await h.forgetStartupRequests();
    const hostile = [
      { machineActionId: "../machines/x/offboard", comment: "x" },
      { machineActionId: newActionId(), comment: "" },
      { machineActionId: newActionId(), comment: "x", padding: "p".repeat(20_000) },
      "just a string",
    ];
    for (const [i, data] of hostile.entries())
      await h.cancelQueue.add("cancel", data, { jobId: `hostile-${i}` });
    const results = await h.results(hostile.length);
    for (const r of results) expect(r).toMatchObject({ outcome: "failed", error: { code: "invalid_job" } });
    expect(results.find((r) => r.jobId === "hostile-0")?.machineActionId).toBeNull();
    expect(h.sim.requests).toHaveLength(0);
  });

  it("keeps one job per action while it is queued, and takes a replay once it finished", async () => {
    h = await startHarness();
    const id = h.sim.store.add({ status: "Pending" }).id;
    const first = await h.enqueue([{ machineActionId: id, comment: "one" }]);
    const again = await h.enqueue([{ machineActionId: id.toUpperCase(), comment: "two" }]);
    expect(again[0]).toMatchObject({ added: false, jobId: first[0]?.jobId });
    expect(await h.cancelQueue.count()).toBe(1);

    await h.startWorker();
    await h.results(1);
    const replay = await h.enqueue([{ machineActionId: id, comment: "three" }]);
    expect(replay[0]?.added).toBe(true);
    expect(replay[0]?.jobId).not.toBe(first[0]?.jobId);
    const results = await h.results(2);
    expect(results.map((r) => r.outcome).sort()).toEqual(["already_terminal", "cancelled"]);
    expect(new Set(results.map((r) => r.jobId)).size).toBe(2);
  });

  it("keeps secrets and tokens out of every log line, even at debug level", async () => {
    h = await startHarness();
    const ids = [h.sim.store.add().id, h.sim.store.add({ status: "Failed" }).id];
    await h.startWorker();
    await h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "Quarantine of PC-ALICE" })));
    await h.results(2);
    expect(h.logs.length).toBeGreaterThan(0);
    const text = h.logs.join("\n");
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/Bearer/i);
    for (const token of h.sim.issuedTokens()) expect(text).not.toContain(token);
    // Logs carry ids, not the requestor's free text.
    expect(text).not.toContain("PC-ALICE");
    expect(text).toContain('"outcome":"cancelled"');
  });
});
