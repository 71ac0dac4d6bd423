import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import { loadTenantInfo } from "../../shared/config/tenants.js";
import type { MachineAction } from "../../shared/contract/cancel-result.js";
import type { SeenStatus } from "../../shared/contract/seen-status.js";
import { ActionChecks, type CheckCalls } from "../../worker/action-checks.js";
import { processCancel } from "../../worker/cancel-processor.js";
import type { ActionsApi } from "../../worker/processor-types.js";

// Paced campaign jobs whose `seen` went stale: a list call with room takes the actions of the
// campaign's jobs due soon along (ActionChecks + RecentSightings), and such a job then finds a
// fresh status instead of checking alone (processCancel). The Redis side: recent-sightings.test.ts.

const TENANT = "11111111-2222-3333-4444-555555555555";
const ID = "5382f7ea-7557-4ab7-9782-d50480024a4e";
const NOW = 10_000_000;
const tenants = loadTenantInfo({ config: parseConfig({ AZURE_TENANT_ID: TENANT }), env: {} });

describe("processCancel with a status looked at ahead of time", () => {
  async function run(data: object, recalled: SeenStatus | undefined | Error) {
    const calls: string[] = [];
    const recalls: string[] = [];
    const api: ActionsApi = {
      getAction: async () => {
        calls.push("get");
        return { id: ID, status: "Pending" };
      },
      cancelAction: async () => {
        calls.push("cancel");
        return { id: ID, status: "Cancelled" };
      },
    };
    const decision = await processCancel(
      { jobId: "j", data, enqueuedAt: 0, state: { failures: 0 } },
      {
        api,
        settings: { maxAttempts: 3, throttleGiveUpMs: 60_000, notFoundGraceMs: 10_000 },
        tenants,
        saveState: async () => undefined,
        sightings: {
          recall: async (_tenant, actionId) => {
            recalls.push(actionId);
            if (recalled instanceof Error) throw recalled;
            return recalled;
          },
        },
        now: () => NOW,
      },
    );
    return { calls, recalls, outcome: decision.kind === "done" ? decision.result.outcome : decision.reason };
  }
  const stale = {
    machineActionId: ID,
    comment: "bulk",
    campaignId: "c-1",
    seen: { status: "Pending", at: 0 },
  };

  it("goes straight to the cancel when a stale job's action was seen non-terminal within the minute", async () => {
    const r = await run(stale, { status: "Pending", at: NOW - 40_000 });
    expect(r).toEqual({ calls: ["cancel"], recalls: [ID], outcome: "cancelled" });
  });

  it("ends already_terminal with no call when it was seen terminal", async () => {
    const r = await run(stale, { status: "Succeeded", at: NOW - 50_000 });
    expect(r).toEqual({ calls: [], recalls: [ID], outcome: "already_terminal" });
  });

  it("checks as before when nothing fresh was kept, or Redis could not say", async () => {
    for (const recalled of [undefined, { status: "Pending", at: NOW - 61_000 }, new Error("redis down")])
      expect((await run(stale, recalled)).calls).toEqual(["get", "cancel"]);
  });

  it("asks only for campaign jobs that need a look: not urgent jobs, not fresh or terminal sightings", async () => {
    const urgent = await run({ machineActionId: ID, comment: "now" }, { status: "Succeeded", at: NOW });
    expect(urgent).toMatchObject({ calls: ["get", "cancel"], recalls: [] });
    const fresh = await run({ ...stale, seen: { status: "Pending", at: NOW - 1_000 } }, undefined);
    expect(fresh).toMatchObject({ calls: ["cancel"], recalls: [] });
    const terminal = await run({ ...stale, seen: { status: "Failed", at: 0 } }, undefined);
    expect(terminal).toMatchObject({ calls: [], recalls: [] });
  });
});

describe("ActionChecks taking upcoming campaign jobs along", () => {
  function setup(upcoming: string[] | Error) {
    const lists: string[][] = [];
    const gets: string[] = [];
    const asked: { campaigns: string[]; max: number }[] = [];
    const remembered: { id: string; status: string }[][] = [];
    const calls: CheckCalls = {
      async checkActions(_tenant, ids) {
        lists.push([...ids]);
        return new Map(ids.map((id) => [id, { id, status: "Pending" } as MachineAction]));
      },
      async getAction(_tenant, id) {
        gets.push(id);
        return { id, status: "Pending" };
      },
    };
    const checks = new ActionChecks(calls, {
      gatherMs: 5,
      ahead: {
        upcoming: async (_tenant, campaigns, max) => {
          asked.push({ campaigns: [...campaigns], max });
          if (upcoming instanceof Error) throw upcoming;
          return upcoming.slice(0, max);
        },
        remember: async (_tenant, seen) => {
          remembered.push([...seen]);
        },
      },
    });
    return { checks, lists, gets, asked, remembered };
  }

  it("fills a campaign check's list call with the campaign's upcoming actions and keeps what it saw", async () => {
    const own = randomUUID();
    const upcoming = Array.from({ length: 50 }, () => randomUUID());
    const s = setup(upcoming);
    await s.checks.getAction(TENANT, own, { campaign: true, campaignId: "c-1" });
    expect(s.asked).toEqual([{ campaigns: ["c-1"], max: 39 }]);
    expect(s.gets).toEqual([]);
    expect(s.lists).toEqual([[own, ...upcoming.slice(0, 39)]]);
    await expect.poll(() => s.remembered.flat().length).toBe(39);
    expect(s.remembered.flat().every((r) => r.status === "Pending")).toBe(true);
  });

  it("leaves urgent checks alone, and checks as before when Redis fails", async () => {
    const urgent = setup([randomUUID()]);
    await urgent.checks.getAction(TENANT, randomUUID(), {});
    expect(urgent.asked).toEqual([]);
    expect(urgent.gets.length).toBe(1);
    const failing = setup(new Error("redis down"));
    await failing.checks.getAction(TENANT, randomUUID(), { campaign: true, campaignId: "c-1" });
    expect(failing.gets.length).toBe(1);
    expect(failing.lists).toEqual([]);
  });
});
