import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { parseCancelJob } from "../../shared/contract/cancel-job.js";
import { isGuid } from "../../shared/contract/guid.js";
import { TENANT_NAME } from "../../shared/contract/tenant-name.js";
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

/**
 * invalid_job, except where the only fault left is a tenantId that is a well-formed tenant name of
 * no tenant: since the second wave a job may name its tenant, so that is `unknown_tenant` (still
 * refused, still without a call).
 */
function expectedCode(payload: unknown): string {
  const tenantId = (payload as { tenantId?: unknown } | null)?.tenantId;
  const named = typeof tenantId === "string" && TENANT_NAME.test(tenantId) && !isGuid(tenantId);
  return named && parseCancelJob(payload).ok ? "unknown_tenant" : "invalid_job";
}

describe("hostile input: job data straight on the queue", () => {
  it("refuses every hostile payload without one HTTP call, and keeps working", async () => {
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
      .filter(
        ({ result }, i) => result?.outcome !== "failed" || result.error?.code !== expectedCode(payloads[i]),
      );
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
