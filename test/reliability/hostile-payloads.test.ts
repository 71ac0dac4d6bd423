import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/harness.js";
import { countBy, expectNoSecrets, record, resultTally } from "./support/evidence.js";
import { hostilePayload } from "./support/hostile.js";

let h: Harness | undefined;
afterEach(async () => {
  if (h) expectNoSecrets(h.sim, h.logs);
  await h?.close();
  h = undefined;
});

/** A fresh seed each run, printed with any failure so it can be replayed (RELIABILITY_SEED=...). */
const SEED = Number(process.env.RELIABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PAYLOADS = 300;

describe("hostile input: job data straight on the queue", () => {
  it("refuses every hostile payload as invalid_job without one HTTP call, and keeps working", async () => {
    h = await startHarness();
    const payloads = fc.sample(hostilePayload, { numRuns: PAYLOADS, seed: SEED });
    const worker = await h.startWorker();
    await h.forgetStartupRequests();
    const added = await h.cancelQueue.addBulk(payloads.map((data) => ({ name: "cancel", data })));
    await h.results(PAYLOADS, 60_000);
    const { results, duplicates } = await resultTally(h.resultsQueue);
    const byJob = new Map(results.map((r) => [r.jobId, r]));
    const wrong = added
      .map((job, i) => ({
        payload: JSON.stringify(payloads[i]).slice(0, 300),
        result: byJob.get(String(job.id)),
      }))
      .filter(({ result }) => result?.outcome !== "failed" || result.error?.code !== "invalid_job");
    const httpCalls = h.sim.requests.length;

    // The worker is still alive and well: a valid job, added with BullMQ directly too, goes through.
    const valid = h.sim.store.add({ status: "Pending" }).id;
    await h.cancelQueue.add("cancel", { machineActionId: valid, comment: "after the fuzz" });
    const after = (await h.results(PAYLOADS + 1, 20_000)).find((r) => r.machineActionId === valid);
    record("hostile-payloads", {
      seed: SEED,
      jobs: PAYLOADS,
      results: results.length,
      duplicates,
      outcomes: countBy(results, (r) => `${r.outcome}/${r.error?.code}`),
      httpCallsForHostile: httpCalls,
      validJobAfter: after?.outcome,
    });
    expect(wrong, `seed ${SEED}`).toEqual([]);
    expect(duplicates).toBe(0);
    expect(httpCalls, `seed ${SEED}`).toBe(0);
    expect(worker.worker.isRunning()).toBe(true);
    expect(after?.outcome).toBe("cancelled");
  });
});
