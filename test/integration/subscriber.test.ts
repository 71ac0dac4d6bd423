import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { subscribeResults } from "../../jobs/subscriber.js";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import { runScript } from "../support/cli.js";
import { type Harness, startHarness } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

let h: Harness;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await h?.close();
});

async function subscribe(handler: (r: CancelResult) => Promise<void> | void, queue?: string) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const sub = await subscribeResults(handler, { connection, config: h.config, queue });
  cleanups.push(async () => {
    await sub.close();
    connection.disconnect();
  });
  return sub;
}

describe("subscribeResults", () => {
  it("hands every result to the service once, even when it is published twice", async () => {
    h = await startHarness();
    const seen: CancelResult[] = [];
    await subscribe((r) => {
      seen.push(r);
    });
    await h.startWorker();
    const ids = Array.from({ length: 5 }, () => h.sim.store.add().id);
    await h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "x" })));
    await waitFor("5 results delivered", () => seen.length === 5);
    expect(seen.map((r) => r.machineActionId).sort()).toEqual(ids.sort());

    // A re-publication after a crash carries the same jobId: the service does not see it again.
    const again = seen[0] as CancelResult;
    await h.resultsQueue.add("result", again, { jobId: `${again.jobId}-republished` });
    await waitFor(
      "the duplicate to be consumed",
      async () => (await h.resultsQueue.getJobCounts("completed")).completed === 6,
    );
    expect(seen).toHaveLength(5);
  });

  it("gives a result again to a handler that failed", async () => {
    h = await startHarness();
    let calls = 0;
    const delivered: string[] = [];
    await subscribe((r) => {
      calls += 1;
      if (calls === 1) throw new Error("database down");
      delivered.push(r.jobId);
    });
    await h.startWorker();
    const [job] = await h.enqueue([{ machineActionId: h.sim.store.add().id, comment: "x" }]);
    await waitFor("the retried delivery", () => delivered.length === 1, 10_000);
    expect(delivered).toEqual([job?.jobId]);
    expect(calls).toBe(2);
  });

  it("serves two subscribing services, each on its own results queue, with every result", async () => {
    h = await startHarness({ env: { RESULTS_QUEUE: "soar-results,ticketing-results" } });
    const soar: string[] = [];
    const ticketing: string[] = [];
    await subscribe((r) => {
      soar.push(r.jobId);
    }, "soar-results");
    await subscribe((r) => {
      ticketing.push(r.jobId);
    }, "ticketing-results");
    await h.startWorker();
    const jobs = await h.enqueue(
      Array.from({ length: 4 }, () => ({ machineActionId: h.sim.store.add().id, comment: "x" })),
    );
    await waitFor("both services to get all 4", () => soar.length === 4 && ticketing.length === 4);
    const expected = jobs.map((j) => j.jobId).sort();
    expect(soar.sort()).toEqual(expected);
    expect(ticketing.sort()).toEqual(expected);
  });
});

describe("examples", () => {
  it("the playbook producer enqueues and reports each outcome", async () => {
    h = await startHarness();
    await h.startWorker();
    const pending = h.sim.store.add().id;
    const done = h.sim.store.add({ status: "Succeeded" }).id;
    const run = await runScript("examples/playbook-producer.ts", [pending, done], {
      ...h.env,
      LOG_LEVEL: "info",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("enqueued 2, already queued 0");
    expect(run.stdout).toContain(`${pending}: cancelled`);
    expect(run.stdout).toContain(`${done}: already_terminal`);
  });
});
