import { describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import { TenantDirectory } from "../../shared/config/tenant-directory.js";
import { loadTenantInfo } from "../../shared/config/tenants.js";
import type { MachineAction } from "../../shared/contract/cancel-result.js";
import {
  BadRequestError,
  BudgetWaitError,
  ConnectionDroppedError,
  ForbiddenError,
  NotFoundError,
  ThrottledError,
  TokenUnavailableError,
  TransientError,
  UnauthorizedError,
} from "../../shared/core/errors.js";
import { usesCampaignBudget } from "../../worker/budget-class.js";
import { processCancel } from "../../worker/cancel-processor.js";
import type { JobState } from "../../worker/job-state.js";
import type { ActionsApi, Decision, ProcessorSettings } from "../../worker/processor-types.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const ID = "5382f7ea-7557-4ab7-9782-d50480024a4e";
const settings: ProcessorSettings = {
  maxAttempts: 3,
  throttleGiveUpMs: 60_000,
  notFoundGraceMs: 10_000,
};
const action = (status: string): MachineAction => ({ id: ID, status, type: "Isolate" });
/** A worker without a tenants file: the one tenant of AZURE_TENANT_ID, named by its id. */
const tenants = loadTenantInfo({ config: parseConfig({ AZURE_TENANT_ID: TENANT }), env: {} });

type Step = MachineAction | Error;
/** A scripted Defender: each call takes the next answer of its endpoint. */
function scripted(gets: Step[], cancels: Step[] = []) {
  const calls: string[] = [];
  const next = (list: Step[], name: string) => {
    calls.push(name);
    const step = list.shift();
    if (!step) throw new Error(`unexpected ${name}`);
    if (step instanceof Error) throw step;
    return step;
  };
  const api: ActionsApi = {
    getAction: async () => next(gets, "get"),
    cancelAction: async () => next(cancels, "cancel"),
  };
  return { api, calls };
}

async function run(
  api: ActionsApi,
  opts: { data?: unknown; state?: JobState; now?: number; priority?: number } = {},
) {
  const saved: JobState[] = [];
  const decision = await processCancel(
    {
      jobId: "job-1",
      data: opts.data ?? { machineActionId: ID, comment: "stop" },
      enqueuedAt: 0,
      priority: opts.priority,
      state: opts.state ?? { failures: 0 },
    },
    {
      api,
      settings,
      tenants,
      saveState: async (s) => {
        saved.push(structuredClone(s));
      },
      now: () => opts.now ?? 1_000,
      random: () => 0.5,
    },
  );
  return { decision, saved };
}

const outcome = (d: Decision) => (d.kind === "done" ? d.result.outcome : `delay:${d.reason}`);
const code = (d: Decision) => (d.kind === "done" ? d.result.error?.code : undefined);

describe("processCancel", () => {
  it("cancels a pending action, recording the cancel before sending it", async () => {
    const { api, calls } = scripted([action("Pending")], [action("Cancelled")]);
    const { decision, saved } = await run(api);
    expect(outcome(decision)).toBe("cancelled");
    expect(calls).toEqual(["get", "cancel"]);
    expect(saved[0]?.cancelSentAt).toBe(1_000);
    expect(decision.kind === "done" && decision.result.status).toBe("Cancelled");
    expect(decision.kind === "done" && decision.result.tenantId).toBe(TENANT);
  });

  it("skips terminal actions without a cancel", async () => {
    for (const status of ["Succeeded", "Failed", "Cancelled", "TimeOut"]) {
      const { api, calls } = scripted([action(status)]);
      const { decision } = await run(api);
      expect(outcome(decision)).toBe("already_terminal");
      expect(decision.kind === "done" && decision.result.status).toBe(status);
      expect(calls).toEqual(["get"]);
    }
  });

  it("reports cancelled when a re-run finds the action Cancelled after its own cancel was sent", async () => {
    const { api } = scripted([action("Cancelled")]);
    const { decision } = await run(api, { state: { failures: 1, cancelSentAt: 500 } });
    expect(outcome(decision)).toBe("cancelled");
  });

  it("re-checks when the cancel is refused with 400 or 403 DisallowedOperation", async () => {
    for (const refusal of [
      new BadRequestError("400", { httpStatus: 400 }),
      new ForbiddenError("403", { httpStatus: 403, code: "DisallowedOperation" }),
    ]) {
      const raced = scripted([action("Pending"), action("Succeeded")], [refusal]);
      expect(outcome((await run(raced.api)).decision)).toBe("already_terminal");
      expect(raced.calls).toEqual(["get", "cancel", "get"]);
    }
    const still = scripted(
      [action("Pending"), action("Pending")],
      [new BadRequestError("400", { httpStatus: 400 })],
    );
    const { decision } = await run(still.api);
    expect(code(decision)).toBe("bad_request");
    const forbidden = scripted(
      [action("Pending"), action("InProgress")],
      [new ForbiddenError("403", { code: "DisallowedOperation" })],
    );
    expect(code((await run(forbidden.api)).decision)).toBe("forbidden");
  });

  it("waits instead of cancelling while another run's cancel for the action is in flight", async () => {
    const { api, calls } = scripted([action("Pending")]);
    const decision = await processCancel(
      { jobId: "job-1", data: { machineActionId: ID, comment: "x" }, enqueuedAt: 0, state: { failures: 0 } },
      {
        api,
        settings,
        tenants,
        claims: { claim: async () => ({ heldMs: 4_000 }) },
        saveState: async () => undefined,
      },
    );
    expect(decision).toEqual({ kind: "delay", ms: 4_250, reason: "in_flight" });
    expect(calls).toEqual(["get"]);
  });

  it("hands the POST the budget its claim took, and releases the claim once the cancel has answered", async () => {
    const { api } = scripted([action("Pending")], [action("Cancelled")]);
    const admission = { ok: true as const, settle: async () => undefined, release: async () => undefined };
    let given: unknown;
    const cancelAction: ActionsApi["cancelAction"] = (tenantId, id, comment, options) => {
      given = options?.admission;
      return api.cancelAction(tenantId, id, comment, options);
    };
    let released = 0;
    const claim = async () => ({
      admission,
      release: async () => {
        released += 1;
      },
    });
    await processCancel(
      { jobId: "job-1", data: { machineActionId: ID, comment: "x" }, enqueuedAt: 0, state: { failures: 0 } },
      {
        api: { ...api, cancelAction },
        settings,
        tenants,
        claims: { claim },
        saveState: async () => undefined,
      },
    );
    expect(given).toBe(admission);
    expect(released).toBe(1);
  });

  it("does not call a refused-then-Cancelled action ours", async () => {
    const refused = scripted([action("Pending"), action("Cancelled")], [new BadRequestError("400")]);
    const first = await run(refused.api);
    expect(outcome(first.decision)).toBe("already_terminal");
    // A re-run from the saved state (after a crash) does not call it ours either.
    const { api } = scripted([action("Cancelled")]);
    const { decision } = await run(api, { state: first.saved.at(-1) });
    expect(outcome(decision)).toBe("already_terminal");
  });

  it("looks at the action before cancelling again when a cancel's answer was lost", async () => {
    const dropped = () => new ConnectionDroppedError("cancel request failed: ECONNRESET");
    // Our cancel arrived: ours, and no second POST.
    const arrived = scripted([action("Pending"), action("Cancelled")], [dropped()]);
    expect(outcome((await run(arrived.api)).decision)).toBe("cancelled");
    expect(arrived.calls).toEqual(["get", "cancel", "get"]);
    // It did not: still Pending, so the normal path cancels once more.
    const lost = scripted([action("Pending"), action("Pending")], [dropped(), action("Cancelled")]);
    expect(outcome((await run(lost.api)).decision)).toBe("cancelled");
    expect(lost.calls).toEqual(["get", "cancel", "get", "cancel"]);
    // The second one's 400 is the first one landing late: still ours.
    const late = scripted(
      [action("Pending"), action("Pending"), action("Cancelled")],
      [dropped(), new BadRequestError("400", { httpStatus: 400 })],
    );
    expect(outcome((await run(late.api)).decision)).toBe("cancelled");
    // Dropped twice: back off, keeping the mark; no third POST in this run.
    const twice = scripted([action("Pending"), action("Pending")], [dropped(), dropped()]);
    const { decision, saved } = await run(twice.api);
    expect(outcome(decision)).toBe("delay:transient");
    expect(saved.at(-1)?.cancelSentAt).toBe(1_000);
    expect(twice.calls).toEqual(["get", "cancel", "get", "cancel"]);
  });

  it("takes the cancel mark back on a 429, so a Cancelled found later is not ours", async () => {
    const throttled = scripted([action("Pending")], [new ThrottledError("429", 2_000, { httpStatus: 429 })]);
    const first = await run(throttled.api);
    expect(outcome(first.decision)).toBe("delay:throttled");
    expect(first.saved[0]?.cancelSentAt).toBe(1_000); // written before the POST left
    expect(first.saved.at(-1)?.cancelSentAt).toBeUndefined();
    // The status it checked is still fresh: the next run cancels first, and the 400 is its re-check.
    const cancelledMeanwhile = scripted(
      [action("Cancelled")],
      [new BadRequestError("400", { httpStatus: 400 })],
    );
    const later = await run(cancelledMeanwhile.api, { state: first.saved.at(-1) });
    expect(cancelledMeanwhile.calls).toEqual(["cancel", "get"]);
    expect(outcome(later.decision)).toBe("already_terminal");
    // An earlier cancel of ours whose answer was lost still counts: the 429 takes back only its own.
    const earlier = scripted([action("Pending")], [new ThrottledError("429", 2_000, { httpStatus: 429 })]);
    const again = await run(earlier.api, { state: { failures: 1, cancelSentAt: 500 } });
    expect(again.saved.at(-1)?.cancelSentAt).toBe(500);
    // A 5xx may have been acted on: the mark stays.
    const failing = scripted([action("Pending")], [new TransientError("500", { httpStatus: 500 })]);
    expect((await run(failing.api)).saved.at(-1)?.cancelSentAt).toBe(1_000);
  });

  it("fails 403 on a pending action at once, without re-check or retry", async () => {
    const { api, calls } = scripted(
      [action("Pending")],
      [new ForbiddenError("403", { httpStatus: 403, code: "Forbidden" })],
    );
    const { decision } = await run(api);
    expect(code(decision)).toBe("forbidden");
    expect(calls).toEqual(["get", "cancel"]);
  });

  it("fails unauthorized without retry", async () => {
    const { api } = scripted([new UnauthorizedError("401")]);
    expect(code((await run(api)).decision)).toBe("unauthorized");
  });

  it("re-checks a 404 with growing delays until the grace is spent", async () => {
    const first = await run(scripted([new NotFoundError("404")]).api, { now: 1_000 });
    expect(first.decision).toEqual({ kind: "delay", ms: 1_000, reason: "not_found" });
    expect(first.saved.at(-1)).toMatchObject({ notFoundSince: 1_000, notFoundChecks: 1 });
    const second = await run(scripted([new NotFoundError("404")]).api, {
      now: 2_000,
      state: first.saved.at(-1),
    });
    expect(second.decision).toEqual({ kind: "delay", ms: 2_000, reason: "not_found" });
    const last = await run(scripted([new NotFoundError("404")]).api, {
      now: 11_000,
      state: second.saved.at(-1),
    });
    expect(outcome(last.decision)).toBe("not_found");
  });

  it("backs off transient failures and fails upstream after MAX_ATTEMPTS", async () => {
    let state: JobState = { failures: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 2; i++) {
      const { decision, saved } = await run(scripted([new TransientError("503")]).api, { state });
      expect(outcome(decision)).toBe("delay:transient");
      delays.push(decision.kind === "delay" ? decision.ms : 0);
      state = saved.at(-1) as JobState;
    }
    expect(delays[1]).toBeGreaterThan(delays[0] as number);
    const { decision } = await run(scripted([new TransientError("503", { httpStatus: 503 })]).api, { state });
    expect(code(decision)).toBe("upstream");
    expect(decision.kind === "done" && decision.result.attempts).toBe(3);
    expect(decision.kind === "done" && decision.result.error?.httpStatus).toBe(503);
  });

  it("waits out throttling and budget without spending an attempt", async () => {
    const throttled = await run(scripted([new ThrottledError("429", 5_000)]).api);
    expect(throttled.decision).toEqual({ kind: "delay", ms: 5_000, reason: "throttled" });
    expect(throttled.saved.at(-1)?.failures).toBe(0);
    const budget = await run(scripted([new BudgetWaitError("budget of get spent", 700)]).api);
    expect(budget.decision).toEqual({ kind: "delay", ms: 700, reason: "budget" });
    expect(budget.saved.at(-1)?.failures).toBe(0);
  });

  it("gives up on throttling once the wait would outlast THROTTLE_GIVE_UP_MS from the first try", async () => {
    const state = { failures: 0, firstTriedAt: 50_000 };
    const within = await run(scripted([new ThrottledError("429", 5_000)]).api, { now: 100_000, state });
    expect(outcome(within.decision)).toBe("delay:throttled");
    const { decision } = await run(scripted([new ThrottledError("429", 5_000, { httpStatus: 429 })]).api, {
      now: 106_000,
      state,
    });
    expect(code(decision)).toBe("throttled");
    expect(decision.kind === "done" && decision.result.error?.httpStatus).toBe(429);
  });

  it("waits for Entra ID without spending attempts, until THROTTLE_GIVE_UP_MS", async () => {
    let state: JobState = { failures: 0, firstTriedAt: 1_000 };
    for (let i = 0; i < 8; i++) {
      const { decision, saved } = await run(scripted([new TokenUnavailableError("Entra ID down")]).api, {
        state,
      });
      expect(outcome(decision)).toBe("delay:token");
      state = saved.at(-1) as JobState;
    }
    expect(state.failures).toBe(0);
    const late = await run(scripted([new TokenUnavailableError("Entra ID down")]).api, {
      state,
      now: 62_000,
    });
    expect(code(late.decision)).toBe("upstream");
  });

  it("refuses invalid jobs and foreign tenants without any call", async () => {
    const { api, calls } = scripted([]);
    const invalid = await run(api, { data: { machineActionId: "../machines/x/offboard", comment: "x" } });
    expect(code(invalid.decision)).toBe("invalid_job");
    expect(invalid.decision.kind === "done" && invalid.decision.result.machineActionId).toBeNull();
    const foreign = await run(api, {
      data: { machineActionId: ID, comment: "x", tenantId: "99999999-2222-3333-4444-555555555555" },
    });
    expect(code(foreign.decision)).toBe("unknown_tenant");
    expect(calls).toEqual([]);
  });

  it("resolves a tenant named by name to its id before any call, and fails a name it does not serve", async () => {
    const file = "/etc/mde/tenants.json";
    const info = { ...parseConfig({}), tenantId: TENANT, name: "contoso" };
    const served = new TenantDirectory([info], undefined, file);
    const seen: string[] = [];
    const api: ActionsApi = {
      getAction: async (tenantId) => {
        seen.push(tenantId);
        return action("Succeeded");
      },
      cancelAction: async () => action("Cancelled"),
    };
    const deps = { api, settings, tenants: served, saveState: async () => undefined };
    const job = (tenantId?: string) => ({
      jobId: "job-1",
      data: { machineActionId: ID, comment: "x", tenantId },
      enqueuedAt: 0,
      state: { failures: 0 },
    });
    const named = await processCancel(job("CONTOSO"), deps);
    expect(named.kind === "done" && named.result).toMatchObject({
      outcome: "already_terminal",
      tenantId: TENANT,
    });
    expect(seen).toEqual([TENANT]);
    const unknown = await processCancel(job("northwind"), deps);
    expect(unknown.kind === "done" && unknown.result).toMatchObject({
      tenantId: "northwind",
      error: { code: "unknown_tenant", message: `tenant northwind is not in MDE_TENANTS_FILE ${file}` },
    });
    // A file of several tenants naming no default: a job must name its tenant.
    const unnamed = await processCancel(job(undefined), deps);
    expect(unnamed.kind === "done" && unnamed.result.error).toMatchObject({
      code: "unknown_tenant",
      message: "the job names no tenant, and MDE_TENANTS_FILE names no defaultTenant",
    });
    expect(seen).toEqual([TENANT]);
  });
});

describe("the budget class", () => {
  it("is the campaign's only while a campaign job carries a priority", () => {
    expect(usesCampaignBudget({ campaignId: "nov-29" }, 1000)).toBe(true);
    // Promoted (priority removed): urgent, the whole budget, though still the campaign's job.
    expect(usesCampaignBudget({ campaignId: "nov-29" }, 0)).toBe(false);
    expect(usesCampaignBudget({ campaignId: "nov-29" }, undefined)).toBe(false);
    // `enqueue --priority`: ordered later, but no campaign share.
    expect(usesCampaignBudget({}, 5)).toBe(false);
    expect(usesCampaignBudget({}, 0)).toBe(false);
  });

  it("follows the priority of the run into every call, and records a wait for campaign budget apart", async () => {
    const campaignJob = { machineActionId: ID, comment: "bulk", campaignId: "nov-29" };
    for (const [priority, campaign, delayedFor] of [
      [1000, true, "campaign_budget"],
      [0, false, "budget"],
    ] as const) {
      const classes: (boolean | undefined)[] = [];
      const api: ActionsApi = {
        getAction: async (_tenant, _id, options) => {
          classes.push(options?.campaign);
          throw new BudgetWaitError("budget of get spent", 700);
        },
        cancelAction: async () => action("Cancelled"),
      };
      const { decision, saved } = await run(api, { data: campaignJob, priority });
      expect(classes).toEqual([campaign]);
      expect(decision).toEqual({ kind: "delay", ms: 700, reason: "budget" });
      expect(saved.at(-1)?.delayedFor).toBe(delayedFor);
    }
    // Any other wait is recorded as itself, replacing what an earlier run recorded.
    const throttled = await run(scripted([new ThrottledError("429", 5_000)]).api, {
      data: campaignJob,
      priority: 1000,
      state: { failures: 0, delayedFor: "campaign_budget" },
    });
    expect(throttled.saved.at(-1)?.delayedFor).toBe("throttled");
  });
});

describe("processCancel with what a campaign saw (seen)", () => {
  const NOW = 10_000_000;
  const job = (seen: unknown) => ({ machineActionId: ID, comment: "bulk", campaignId: "c-1", seen });

  it("finishes a job seen terminal as already_terminal without any call", async () => {
    for (const status of ["Succeeded", "Failed", "Cancelled", "TimeOut"]) {
      const { api, calls } = scripted([]);
      // Seen long ago: terminal is final, its age does not matter.
      const { decision } = await run(api, { data: job({ status, at: 5 }), now: NOW });
      expect(calls).toEqual([]);
      expect(outcome(decision)).toBe("already_terminal");
      expect(decision.kind === "done" && decision.result.status).toBe(status);
      expect(decision.kind === "done" && decision.result.action).toEqual({ id: ID, status });
    }
  });

  it("checks again when a cancel of this job may have left, whatever was seen", async () => {
    const { api, calls } = scripted([action("Cancelled")]);
    const { decision } = await run(api, {
      data: job({ status: "Succeeded", at: NOW }),
      state: { failures: 1, cancelSentAt: NOW - 5_000 },
      now: NOW,
    });
    expect(calls).toEqual(["get"]);
    expect(outcome(decision)).toBe("cancelled");
  });

  it("goes straight to the cancel with a fresh non-terminal status, a refusal being the re-check", async () => {
    for (const age of [0, 30_000, 60_000]) {
      const fresh = scripted([], [action("Cancelled")]);
      const { decision } = await run(fresh.api, {
        data: job({ status: "Pending", at: NOW - age }),
        now: NOW,
      });
      expect(fresh.calls).toEqual(["cancel"]);
      expect(outcome(decision)).toBe("cancelled");
    }
    const raced = scripted([action("Succeeded")], [new BadRequestError("400", { httpStatus: 400 })]);
    const { decision } = await run(raced.api, { data: job({ status: "InProgress", at: NOW }), now: NOW });
    expect(raced.calls).toEqual(["cancel", "get"]);
    expect(outcome(decision)).toBe("already_terminal");
  });

  it("checks a stale non-terminal status (or one from too far ahead) before the cancel", async () => {
    for (const at of [NOW - 60_001, NOW - 3_600_000, NOW + 60_001]) {
      const stale = scripted([action("Pending")], [action("Cancelled")]);
      const { decision } = await run(stale.api, { data: job({ status: "Pending", at }), now: NOW });
      expect(stale.calls).toEqual(["get", "cancel"]);
      expect(outcome(decision)).toBe("cancelled");
    }
    const finished = scripted([action("Succeeded")]);
    const { decision } = await run(finished.api, { data: job({ status: "Pending", at: 0 }), now: NOW });
    expect(finished.calls).toEqual(["get"]);
    expect(outcome(decision)).toBe("already_terminal");
  });

  it("refuses a malformed seen from a foreign producer as invalid_job, without a call", async () => {
    const bad: [unknown, RegExp][] = [
      ["Succeeded", /seen must be/],
      [{ status: "Succeeded" }, /seen\.at/],
      [{ status: "Succeeded", at: "now" }, /seen\.at/],
      [{ status: "Succeeded'", at: NOW }, /seen\.status/],
      [{ status: "Succeeded", at: NOW, action: { id: ID } }, /unknown field seen\.action/],
    ];
    for (const [seen, reason] of bad) {
      const { api, calls } = scripted([]);
      const { decision } = await run(api, { data: job(seen), now: NOW });
      expect(calls).toEqual([]);
      expect(code(decision)).toBe("invalid_job");
      expect(decision.kind === "done" && decision.result.error?.message).toMatch(reason);
    }
  });

  it("keeps the status it checked when the cancel waits for budget: a run within 60 s skips the check", async () => {
    const first = scripted([action("Pending")], [new BudgetWaitError("budget of cancel spent", 20_000)]);
    const { decision, saved } = await run(first.api, { now: NOW });
    expect(first.calls).toEqual(["get", "cancel"]);
    expect(decision).toMatchObject({ kind: "delay", reason: "budget" });
    const state = saved.at(-1) as JobState;
    expect(state.seen).toEqual({ status: "Pending", at: NOW });
    expect(state.cancelSentAt).toBeUndefined();

    const soon = scripted([], [action("Cancelled")]);
    expect(outcome((await run(soon.api, { state, now: NOW + 20_000 })).decision)).toBe("cancelled");
    expect(soon.calls).toEqual(["cancel"]);
    const late = scripted([action("Pending")], [action("Cancelled")]);
    expect(outcome((await run(late.api, { state, now: NOW + 60_001 })).decision)).toBe("cancelled");
    expect(late.calls).toEqual(["get", "cancel"]);

    // A wait for the check's own budget saw nothing, and keeps nothing.
    const unchecked = await run(scripted([new BudgetWaitError("budget of get spent", 700)]).api, {
      now: NOW,
    });
    expect(unchecked.saved.at(-1)?.seen).toBeUndefined();
  });
});
