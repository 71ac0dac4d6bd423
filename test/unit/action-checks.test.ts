import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { MachineAction } from "../../shared/contract/cancel-result.js";
import { BudgetWaitError, NotFoundError, ThrottledError } from "../../shared/core/errors.js";
import type { CallOptions } from "../../shared/defender/defender-client.js";
import { ActionChecks, type CheckCalls, planChecks } from "../../worker/action-checks.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const OTHER = "99999999-8888-7777-6666-555555555555";
const action = (id: string) => ({ id, status: "Pending" }) as MachineAction;

/** Fake Defender calls: a list call answers every id but `unknown`, or throws `fail`. */
function fakeCalls(opts: { unknown?: Set<string>; fail?: Error } = {}) {
  const lists: { tenantId: string; ids: readonly string[]; options?: CallOptions }[] = [];
  const gets: string[] = [];
  const calls: CheckCalls = {
    async checkActions(tenantId, ids, options) {
      lists.push({ tenantId, ids, options });
      if (opts.fail) throw opts.fail;
      return new Map(ids.filter((id) => !opts.unknown?.has(id)).map((id) => [id, action(id)]));
    },
    async getAction(_tenantId, id) {
      gets.push(id);
      if (!opts.unknown?.has(id)) return action(id);
      throw new NotFoundError(`Defender answered 404 ResourceNotFound to get`, { httpStatus: 404 });
    },
  };
  return { calls, lists, gets };
}

describe("ActionChecks", () => {
  it("answers N concurrent checks with ceil(N/40) calls, each caller its own action; one alone is a GET", async () => {
    for (const n of [1, 2, 39, 40, 41, 50, 100]) {
      const { calls, lists, gets } = fakeCalls();
      const checks = new ActionChecks(calls, { gatherMs: 20 });
      const ids = Array.from({ length: n }, () => randomUUID());
      const got = await Promise.all(ids.map((id) => checks.getAction(TENANT, id)));
      expect(got.map((a) => a.id)).toEqual(ids);
      expect(lists.length + gets.length, `${n} checks`).toBe(Math.ceil(n / 40));
      expect(lists.every((l) => l.ids.length <= 40 && l.ids.length >= 2)).toBe(true);
      expect(gets.length).toBe(n % 40 === 1 ? 1 : 0);
    }
  });

  it("never mixes tenants in one call", async () => {
    const { calls, lists } = fakeCalls();
    const checks = new ActionChecks(calls, { gatherMs: 20 });
    await Promise.all([
      checks.getAction(TENANT, randomUUID()),
      checks.getAction(OTHER, randomUUID()),
      checks.getAction(TENANT, randomUUID()),
      checks.getAction(OTHER, randomUUID()),
      checks.getAction(OTHER, randomUUID()),
    ]);
    expect(lists.map((l) => [l.tenantId, l.ids.length]).sort()).toEqual(
      [
        [TENANT, 2],
        [OTHER, 3],
      ].sort(),
    );
  });

  it("checks an id missing from the list answer with its own GET, whose 404 reaches only its caller", async () => {
    const missing = randomUUID();
    const { calls, lists, gets } = fakeCalls({ unknown: new Set([missing]) });
    const checks = new ActionChecks(calls, { gatherMs: 20 });
    const listed = randomUUID();
    const [a, b] = await Promise.allSettled([
      checks.getAction(TENANT, listed),
      checks.getAction(TENANT, missing.toUpperCase()),
    ]);
    expect(a).toMatchObject({ status: "fulfilled", value: { id: listed } });
    expect(b).toMatchObject({ status: "rejected" });
    expect((b as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
    expect(lists).toHaveLength(1);
    expect(gets).toEqual([missing]);
  });

  it("fans a budget wait or a 429 of the batch call out to every caller as the same error", async () => {
    for (const fail of [new BudgetWaitError("list budget spent", 700), new ThrottledError("429", 2000)]) {
      const { calls, lists, gets } = fakeCalls({ fail });
      const checks = new ActionChecks(calls, { gatherMs: 20 });
      const settled = await Promise.allSettled(
        Array.from({ length: 45 }, () => checks.getAction(TENANT, randomUUID())),
      );
      expect(settled.map((s) => (s as PromiseRejectedResult).reason)).toEqual(Array(45).fill(fail));
      expect(lists).toHaveLength(2);
      expect(gets).toEqual([]);
    }
  });

  it("sends each check alone with CHECK_GATHER_MS=0, and a non-GUID alone always", async () => {
    const { calls, lists, gets } = fakeCalls();
    const off = new ActionChecks(calls, { gatherMs: 0 });
    const ids = [randomUUID(), randomUUID()];
    await Promise.allSettled(ids.map((id) => off.getAction(TENANT, id)));
    expect(gets).toEqual(ids);
    expect(lists).toHaveLength(0);
    const on = new ActionChecks(calls, { gatherMs: 20 });
    await Promise.allSettled([
      on.getAction(TENANT, "not-a-guid"),
      on.getAction(TENANT, randomUUID()),
      on.getAction(TENANT, randomUUID()),
    ]);
    expect(gets).toEqual([...ids, "not-a-guid"]);
    expect(lists).toHaveLength(1);
    expect(lists[0]?.ids).toHaveLength(2);
  });

  it("keeps gathering while a list call of the tenant is on the wire, then sends what gathered together", async () => {
    vi.useFakeTimers();
    try {
      const lists: number[] = [];
      let answer: (() => void) | undefined;
      const calls: CheckCalls = {
        checkActions: async (_tenantId, ids) => {
          lists.push(ids.length);
          if (lists.length === 1) await new Promise<void>((r) => (answer = r));
          return new Map(ids.map((id) => [id, action(id)]));
        },
        getAction: async () => {
          throw new Error("no single GET expected");
        },
      };
      const checks = new ActionChecks(calls, { gatherMs: 5 });
      const first = Promise.all([
        checks.getAction(TENANT, randomUUID()),
        checks.getAction(TENANT, randomUUID()),
      ]);
      await vi.advanceTimersByTimeAsync(5);
      expect(lists).toEqual([2]);
      // Three checks, each alone for longer than CHECK_GATHER_MS, while the first call is unanswered.
      const later = [checks.getAction(TENANT, randomUUID())];
      for (let i = 0; i < 2; i++) {
        await vi.advanceTimersByTimeAsync(10);
        later.push(checks.getAction(TENANT, randomUUID()));
      }
      await vi.advanceTimersByTimeAsync(10);
      expect(lists).toEqual([2]);
      answer?.();
      await first;
      await vi.advanceTimersByTimeAsync(0);
      await Promise.all(later);
      expect(lists).toEqual([2, 3]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("gives the batch call the campaign class only when it carries campaign checks alone", async () => {
    const { calls, lists } = fakeCalls();
    const checks = new ActionChecks(calls, { gatherMs: 20 });
    await Promise.all([
      checks.getAction(TENANT, randomUUID(), { campaign: true }),
      checks.getAction(TENANT, randomUUID(), { campaign: false }),
    ]);
    await Promise.all([
      checks.getAction(TENANT, randomUUID(), { campaign: true }),
      checks.getAction(TENANT, randomUUID(), { campaign: true }),
    ]);
    expect(lists.map((l) => [l.ids.length, l.options?.campaign])).toEqual([
      [2, false],
      [2, true],
    ]);
  });
});

describe("planChecks", () => {
  const of = (n: number, campaign: boolean) => Array.from({ length: n }, () => ({ options: { campaign } }));
  const shape = (plan: ReturnType<typeof planChecks>) =>
    plan.map((p) => [
      p.campaign,
      p.checks.filter((c) => !c.options.campaign).length,
      p.checks.filter((c) => c.options.campaign).length,
    ]);

  it("sends urgent checks in the urgent class, campaign checks riding in the room left", () => {
    expect(shape(planChecks([...of(30, false), ...of(25, true)], 40))).toEqual([
      [false, 30, 10],
      [true, 0, 15],
    ]);
    expect(shape(planChecks([...of(45, false)], 40))).toEqual([
      [false, 40, 0],
      [false, 5, 0],
    ]);
    expect(shape(planChecks(of(40, true), 40))).toEqual([[true, 0, 40]]);
    expect(shape(planChecks([...of(40, false), ...of(3, true)], 40))).toEqual([
      [false, 40, 0],
      [true, 0, 3],
    ]);
  });
});
