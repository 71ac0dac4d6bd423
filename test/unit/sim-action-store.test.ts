import { describe, expect, it, vi } from "vitest";
import { ACTION_STATUSES, ActionStore, TERMINAL_STATUSES } from "../../sim/action-store.js";
import { GUID_RE, seededRng } from "../../sim/rng.js";

describe("ActionStore", () => {
  it("creates actions in Defender's shape, with every nullable field present", () => {
    const store = new ActionStore();
    const action = store.add({ type: "Isolate" });
    expect(action.id).toMatch(GUID_RE);
    expect(action.id).toBe(action.id.toLowerCase());
    expect(action.machineId).toMatch(/^[0-9a-f]{40}$/);
    expect(action).toMatchObject({
      type: "Isolate",
      status: "Pending",
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationDateTimeUtc: null,
      errorHResult: 0,
      commands: [],
      troubleshootInfo: null,
      title: null,
    });
    expect(action.creationDateTimeUtc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(store.get(action.id.toUpperCase())).toEqual(action);
  });

  it("hides new actions until visibleAfter, like Defender's eventual consistency", () => {
    let now = 1_000_000;
    const store = new ActionStore({ now: () => now, notFoundLagMs: 2_000 });
    const lagging = store.add();
    const explicit = store.add({ visibleAfter: now + 500 });
    expect(store.lookup(lagging.id)).toBeUndefined();
    expect(store.get(lagging.id)).toBeDefined();
    expect(store.list()).toEqual([]);
    now += 500;
    expect(store.lookup(explicit.id)?.id).toBe(explicit.id);
    expect(store.lookup(lagging.id)).toBeUndefined();
    now += 1_500;
    expect(store.list().map((a) => a.id)).toEqual([lagging.id, explicit.id]);
  });

  it("returns copies, so callers cannot change the store behind its back", () => {
    const store = new ActionStore();
    const action = store.add();
    action.status = "Succeeded";
    expect(store.get(action.id)?.status).toBe("Pending");
  });

  it("seeds a reproducible, realistic mix", () => {
    const first = new ActionStore({ now: () => 1_700_000_000_000 }).seed(300, seededRng(42));
    const again = new ActionStore({ now: () => 1_700_000_000_000 }).seed(300, seededRng(42));
    expect(again).toEqual(first);
    const statuses = new Set(first.map((a) => a.status));
    expect([...statuses].sort()).toEqual([...ACTION_STATUSES].sort());
    expect(new Set(first.map((a) => a.type)).size).toBeGreaterThanOrEqual(6);
    const live = first.filter((a) => !TERMINAL_STATUSES.has(a.status));
    expect(live.length).toBeGreaterThan(30);
    for (const a of first.filter((x) => x.status === "Cancelled"))
      expect(a.cancellationDateTimeUtc).not.toBeNull();
    // Several actions per machine, as on a real tenant.
    expect(new Set(first.map((a) => a.machineId)).size).toBeLessThan(first.length / 2);
  });

  it("sets a status directly and stamps lastUpdateDateTimeUtc", () => {
    let now = Date.parse("2024-01-01T00:00:00Z");
    const store = new ActionStore({ now: () => now });
    const action = store.add();
    now += 60_000;
    const updated = store.setStatus(action.id, "InProgress");
    expect(updated?.status).toBe("InProgress");
    expect(updated?.lastUpdateDateTimeUtc).toBe("2024-01-01T00:01:00.0000000Z");
    expect(store.setStatus("00000000-0000-4000-8000-000000000000", "Failed")).toBeUndefined();
  });

  it("drifts live actions on to Succeeded over time, and stops", () => {
    // Fake timers tick the drift by hand: no wall clock, so a busy machine changes nothing.
    vi.useFakeTimers();
    try {
      const store = new ActionStore();
      const ids = Array.from({ length: 5 }, () => store.add().id);
      const finished = store.add({ status: "Failed" });
      store.startDrift({ intervalMs: 5, rng: seededRng(7), stepProbability: 0.5 });
      for (let tick = 0; tick < 1_000 && ids.some((id) => store.get(id)?.status !== "Succeeded"); tick++)
        vi.advanceTimersByTime(5);
      expect(ids.map((id) => store.get(id)?.status)).toEqual(Array(5).fill("Succeeded"));
      expect(store.get(finished.id)?.status).toBe("Failed");
      store.stopDrift();
      const parked = store.add();
      // A thousand ticks' worth of time: a drift still running would have moved it (p = 0.5 a tick).
      vi.advanceTimersByTime(5_000);
      expect(store.get(parked.id)?.status).toBe("Pending");
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
