import { afterEach, describe, expect, it } from "vitest";
import type { RecordedRequest } from "../../sim/server.js";
import { type Harness, startHarness } from "../support/harness.js";
import { type SlowFrontDoor, startSlowFrontDoor } from "../support/slow-front-door.js";
import { waitFor } from "../support/wait.js";
import { countBy, expectNoSecrets, record, resultTally } from "./support/evidence.js";
import { spawnWorker, stopWorkers, type WorkerProcess } from "./support/processes.js";

let h: Harness | undefined;
let door: SlowFrontDoor | undefined;
let workers: WorkerProcess[] = [];
afterEach(async () => {
  await stopWorkers(workers);
  workers = [];
  await door?.close();
  if (h) expectNoSecrets(h.sim, h.logs);
  await h?.close();
  h = door = undefined;
});

/** The most arrivals in any sliding window of `windowMs` (an arrival at t counts in (t - windowMs, t]). */
function mostInWindow(calls: RecordedRequest[], windowMs: number): number {
  const at = calls.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let last = 0, first = 0; last < at.length; last++) {
    while ((at[first] as number) <= (at[last] as number) - windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe("the shared budget, counted by Defender when each call arrives", () => {
  it("never lets a window hold more than its limit across three worker processes, however late calls arrive or answers come", async () => {
    const window = { limit: 10, windowMs: 2_000 };
    h = await startHarness({
      sim: { rateLimits: [window], latencyMs: 20 },
      env: { MDE_RATE_LIMITS: "10/2s", LOG_LEVEL: "info" },
    });
    const sim = h.sim;
    // Calls on new connections arrive up to 1.05 s after they took budget (more than a 500 ms pad)...
    door = await startSlowFrontDoor(sim.url, (n) => 150 * (n % 8));
    // ...and one answer in four comes 400 ms late.
    let rolls = 0;
    sim.injectFault({
      endpoint: "any",
      delayMs: 400,
      times: 1_000_000,
      match: (req) => req.endpoint !== "token" && req.endpoint !== "openid" && rolls++ % 4 === 0,
    });
    const jobs = 40;
    const ids = Array.from({ length: jobs }, () => sim.store.add({ status: "Pending" }).id);
    await h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "budget" })));
    const startedAt = Date.now();
    workers = [0, 1, 2].map(() => spawnWorker({ ...(h as Harness).env, MDE_API_BASE_URL: door?.url ?? "" }));
    await waitFor(`${jobs} results`, async () => ((await h?.resultsQueue.count()) ?? 0) >= jobs, 50_000, 100);

    const { results, duplicates } = await resultTally(h.resultsQueue);
    const byEndpoint = (e: string) => sim.requests.filter((r) => r.endpoint === e);
    const figures = {
      workers: workers.length,
      window: "10/2s",
      jobs,
      results: results.length,
      duplicates,
      outcomes: countBy(results, (r) => r.outcome),
      calls: countBy(
        sim.requests.filter((r) => ["get", "cancel", "list"].includes(r.endpoint)),
        (r) => `${r.endpoint}:${r.status}`,
      ),
      mostGetsInAWindow: mostInWindow(byEndpoint("get"), window.windowMs),
      mostCancelsInAWindow: mostInWindow(byEndpoint("cancel"), window.windowMs),
      // Batched state checks (CHECK_GATHER_MS) spend the list endpoint's budget.
      mostListsInAWindow: mostInWindow(byEndpoint("list"), window.windowMs),
      connections: door.connections(),
      runMs: Date.now() - startedAt,
    };
    record("budget-at-arrival", figures);
    expect(results).toHaveLength(jobs);
    expect(duplicates).toBe(0);
    expect(figures.outcomes).toEqual({ cancelled: jobs });
    expect(sim.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(figures.mostGetsInAWindow).toBeLessThanOrEqual(window.limit);
    expect(figures.mostCancelsInAWindow).toBeLessThanOrEqual(window.limit);
    expect(figures.mostListsInAWindow).toBeLessThanOrEqual(window.limit);
    // The budget was used, not just respected: some window was full.
    expect(Math.max(figures.mostGetsInAWindow, figures.mostCancelsInAWindow)).toBe(window.limit);
  });
});
