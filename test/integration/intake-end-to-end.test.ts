import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/harness.js";
import { type Answer, startTestIntake, type TestIntake } from "../support/intake.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
let intake: TestIntake | undefined;
afterEach(async () => {
  await intake?.close();
  await h?.close();
  intake = undefined;
  h = undefined;
});

/** Follows Location as Logic Apps does: until the answer is no longer 202 (Retry-After shortened to the test's pace). */
async function poll(location: string, key: string): Promise<Answer> {
  const path = new URL(location).pathname;
  return waitFor(`${path} to answer 200`, async () => {
    const answer = await (intake as TestIntake).call("GET", path, { key });
    expect([200, 202]).toContain(answer.status);
    if (answer.status === 202) expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
    return answer.status === 200 ? answer : undefined;
  });
}

describe("intake end to end (worker and simulator running)", () => {
  it("POST /v1/cancels → 202 with an absolute Location → polling → 200 with the result", async () => {
    h = await startHarness();
    intake = await startTestIntake({ env: h.env });
    await h.startWorker();
    const key = await intake.newKey({ name: "logic-app" });
    const action = h.sim.store.add();
    const posted = await intake.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId: action.id.toUpperCase(), comment: "playbook stop", correlationId: "inc-42" },
    });
    expect(posted.status).toBe(202);
    const location = posted.headers.get("location") ?? "";
    expect(location).toBe(`${intake.url}/v1/cancels/${posted.body.jobId}`);
    expect(posted.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(posted.body).toMatchObject({
      machineActionId: action.id,
      tenantId: h.config.tenantId,
      state: "waiting",
      added: true,
      promoted: false,
      statusUrl: location,
    });

    const done = await poll(location, key);
    expect(done.body).toMatchObject({ jobId: posted.body.jobId, state: "finished" });
    expect(done.body.result).toMatchObject({
      jobId: posted.body.jobId,
      machineActionId: action.id,
      outcome: "cancelled",
      correlationId: "inc-42",
      requestedBy: "api-key:logic-app",
    });
    expect(h.sim.store.get(action.id)?.status).toBe("Cancelled");
  });

  it("reports the job an action already has (added: false) and takes INTAKE_PUBLIC_URL for links", async () => {
    h = await startHarness();
    intake = await startTestIntake({ env: { ...h.env, INTAKE_PUBLIC_URL: "https://soar-gw.example.com" } });
    const key = await intake.newKey();
    const body = { machineActionId: h.sim.store.add().id, comment: "stop" };
    const first = await intake.call("POST", "/v1/cancels", { key, body });
    const again = await intake.call("POST", "/v1/cancels", { key, body });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ jobId: first.body.jobId, added: false, state: "waiting" });
    expect(again.headers.get("location")).toBe(`https://soar-gw.example.com/v1/cancels/${first.body.jobId}`);
    const pending = await intake.call("GET", `/v1/cancels/${first.body.jobId}`, { key });
    expect(pending.status).toBe(202);
    expect(pending.body).toEqual({
      jobId: first.body.jobId,
      state: "waiting",
      statusUrl: again.body.statusUrl,
    });
  });

  it("promotes a campaign's waiting job when a playbook asks for the same action (added: false, promoted: true)", async () => {
    h = await startHarness();
    intake = await startTestIntake({ env: h.env });
    const key = await intake.newKey();
    const machineActionId = h.sim.store.add().id;
    const started = await intake.call("POST", "/v1/campaigns", {
      key,
      body: { machineActionIds: [machineActionId], comment: "sweep" },
    });
    expect(started.status).toBe(202);
    const urgent = await intake.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId, comment: "now" },
    });
    expect(urgent.status).toBe(202);
    expect(urgent.body).toMatchObject({ added: false, promoted: true, state: "waiting" });
    expect(Number((await intake.cancelQueue.getJob(urgent.body.jobId))?.priority)).toBe(0);
  });

  it("runs a campaign by ids: 202 once the jobs are added, 202 while it drains, 200 when done, results paged", async () => {
    h = await startHarness();
    intake = await startTestIntake({ env: h.env });
    const key = await intake.newKey({ name: "xsoar" });
    const ids = Array.from({ length: 7 }, () => h?.sim.store.add().id as string);
    const dry = await intake.call("POST", "/v1/campaigns", {
      key,
      body: { machineActionIds: [...ids, ids[0]?.toUpperCase()], comment: "sweep", dryRun: true },
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, toEnqueue: 7, lookedUp: 7, byStatus: { Pending: 7 } });
    expect(dry.body.machineActionIds.sort()).toEqual([...ids].sort());
    expect(await intake.cancelQueue.count()).toBe(0);

    const started = await intake.call("POST", "/v1/campaigns", {
      key,
      body: { machineActionIds: ids, comment: "sweep", name: "sweep-1" },
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ campaignId: "sweep-1", added: 7, alreadyQueued: [] });
    expect(started.headers.get("location")).toBe(`${intake.url}/v1/campaigns/sweep-1`);
    const draining = await intake.call("GET", "/v1/campaigns/sweep-1", { key });
    expect(draining.status).toBe(202);
    expect(draining.body).toMatchObject({ state: "draining", total: 7, done: 0 });

    await h.startWorker();
    const done = await poll(started.headers.get("location") ?? "", key);
    expect(done.body).toMatchObject({ state: "finished", total: 7, done: 7, counts: { cancelled: 7 } });

    const seen = new Map<string, { outcome: string; requestedBy: string }>();
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await intake.call(
        "GET",
        `/v1/campaigns/sweep-1/results?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { key },
      );
      expect(page.status).toBe(200);
      for (const r of page.body.results) seen.set(r.jobId, r);
      cursor = page.body.next;
      pages += 1;
    } while (cursor && pages < 50);
    expect(cursor).toBeNull();
    expect(seen.size).toBe(7);
    for (const r of seen.values())
      expect(r).toMatchObject({ outcome: "cancelled", requestedBy: "api-key:xsoar" });
  });

  it("runs a campaign by filter: only actions not yet finished; more than max is 400 naming filter", async () => {
    h = await startHarness({ sim: { pageSize: 3 } });
    intake = await startTestIntake({ env: h.env });
    const key = await intake.newKey();
    const pending = Array.from({ length: 4 }, () => h?.sim.store.add({ type: "Isolate" }).id as string);
    h.sim.store.add({ type: "Isolate", status: "Succeeded" });
    const filter = "type eq 'Isolate'";
    const tooMany = await intake.call("POST", "/v1/campaigns", {
      key,
      body: { filter, max: 3, comment: "x" },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].field).toBe("filter");
    expect(tooMany.body.detail).toContain("max 3");
    expect(await intake.cancelQueue.count()).toBe(0);

    const dry = await intake.call("POST", "/v1/campaigns", {
      key,
      body: { filter, comment: "x", dryRun: true },
    });
    expect(dry.body).toMatchObject({ toEnqueue: 4, byStatus: { Pending: 4, Succeeded: 1 } });
    const started = await intake.call("POST", "/v1/campaigns", { key, body: { filter, comment: "x" } });
    expect(started.status).toBe(202);
    expect(started.body.added).toBe(4);
    const jobs = await intake.cancelQueue.getJobs(["prioritized", "waiting"]);
    expect(jobs.map((j) => j.data.machineActionId).sort()).toEqual(pending.sort());
  });
});
