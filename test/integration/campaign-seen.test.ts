/**
 * A campaign checks its ids in batches before enqueuing, and its jobs carry what it saw: counted
 * at the simulator, a campaign where 60% of the actions are terminal costs at most 0.5 Defender
 * calls per action, and every id still gets its result.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Producer } from "../../jobs/producer.js";
import type { ActionStatus } from "../../sim/machine-action.js";
import { type Harness, startHarness } from "../support/harness.js";

let h: Harness;
let producer: Producer | undefined;
afterEach(async () => {
  await producer?.close();
  producer = undefined;
  await h?.close();
});

const DEFENDER = new Set(["get", "cancel", "list"]);
const defenderCalls = () => h.sim.requests.filter((r) => DEFENDER.has(r.endpoint));
const add = (n: number, status: ActionStatus) =>
  Array.from({ length: n }, () => h.sim.store.add({ status, type: "Isolate" }).id);

/** 100 actions, three terminal (of each terminal status) to two Pending all along. */
function mixedActions(): { ids: string[]; pending: Set<string> } {
  const terminal = (["Succeeded", "Failed", "Cancelled", "TimeOut"] as const).flatMap((s) => add(15, s));
  const pending = add(40, "Pending");
  const ids = Array.from({ length: 100 }, (_, i) =>
    i % 5 < 3 ? terminal[Math.floor(i / 5) * 3 + (i % 5)] : pending[Math.floor(i / 5) * 2 + (i % 5) - 3],
  ) as string[];
  return { ids, pending: new Set(pending) };
}

describe("a campaign's batched checks before enqueuing", () => {
  it("costs at most 0.5 calls per action when 60% are terminal, and every id has its result", async () => {
    // A budget that lets all 40 cancels go at once: none is paced past its check's freshness.
    h = await startHarness({ env: { MDE_RATE_LIMITS: "1000/1s" } });
    const { ids, pending } = mixedActions();
    expect(ids).toHaveLength(100);
    await h.startWorker();
    await h.forgetStartupRequests();

    producer = await Producer.open(h.config, { env: h.env });
    const started = await producer.startCampaign({
      source: { ids, label: "test ids" },
      comment: "clean-up",
    });
    expect(started.added).toBe(100);
    const record = await producer.waitForCampaign(started.campaignId, { intervalMs: 100 });
    expect(record?.counts).toMatchObject({ cancelled: 40, already_terminal: 60, failed: 0, not_found: 0 });

    const results = await h.results(100);
    expect(new Set(results.map((r) => r.machineActionId))).toEqual(new Set(ids));
    for (const r of results) {
      expect(r.outcome).toBe(pending.has(r.machineActionId as string) ? "cancelled" : "already_terminal");
      if (r.outcome === "already_terminal") expect(r.status).toBe(r.action?.status);
    }

    const calls = defenderCalls();
    const count = (endpoint: string) => calls.filter((r) => r.endpoint === endpoint).length;
    // 3 checks of up to 40 ids, one cancel per Pending action, no GET: the checks were fresh.
    expect(count("list")).toBe(3);
    expect(count("cancel")).toBe(40);
    expect(count("get")).toBe(0);
    expect(calls.length / ids.length).toBeLessThanOrEqual(0.5);
    // No terminal action was asked about singly or cancelled.
    const terminal = ids.filter((id) => !pending.has(id));
    expect(calls.filter((r) => terminal.some((id) => r.path.includes(id)))).toEqual([]);
  });

  it("adds the jobs without a lookup when asked to (HTTP): the workers check each action", async () => {
    h = await startHarness();
    const terminal = add(3, "Succeeded");
    const pendingIds = add(2, "Pending");
    await h.startWorker();
    await h.forgetStartupRequests();
    producer = await Producer.open(h.config, { env: h.env });
    const started = await producer.startCampaign(
      { source: { ids: [...terminal, ...pendingIds], label: "api 5 ids" }, comment: "x" },
      { lookUp: false },
    );
    const jobs = await h.cancelQueue.getJobs(["waiting", "prioritized", "active", "completed", "delayed"]);
    expect(jobs.map((j) => j.data.seen)).toEqual(Array(5).fill(undefined));
    const record = await producer.waitForCampaign(started.campaignId, { intervalMs: 100 });
    expect(record?.counts).toMatchObject({ cancelled: 2, already_terminal: 3 });
    // The workers checked each action themselves: the terminal ones got no cancel.
    expect(defenderCalls().filter((r) => r.endpoint === "cancel")).toHaveLength(2);
  });

  it("carries the states a filter listed: its jobs go straight to the cancel", async () => {
    h = await startHarness();
    add(3, "Succeeded");
    add(4, "Pending");
    await h.startWorker();
    await h.forgetStartupRequests();
    producer = await Producer.open(h.config, { env: h.env });
    const started = await producer.startCampaign({
      source: { filter: "status eq 'Pending'", max: 100 },
      comment: "x",
    });
    expect(started.added).toBe(4);
    const record = await producer.waitForCampaign(started.campaignId, { intervalMs: 100 });
    expect(record?.counts).toMatchObject({ cancelled: 4 });
    const endpoints = defenderCalls().map((r) => r.endpoint);
    expect(endpoints.filter((e) => e === "get")).toEqual([]);
    expect(endpoints.filter((e) => e === "cancel")).toHaveLength(4);
  });
});
