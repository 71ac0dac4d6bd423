import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { readResults } from "../../jobs/results-reader.js";
import { collect, startCli } from "../support/cli.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Workers whose crashed jobs are taken over within a few seconds instead of 30. */
const fastLocks = { WORKER_LOCK_MS: "1500", HTTP_TIMEOUT_MS: "20000" };

async function crashWorkerWhen(what: string, condition: () => boolean): Promise<void> {
  const child = startCli(["worker"], h.env);
  const exited = collect(child);
  // Starting tsx on a loaded 2-core machine can take many seconds: the deadline is generous.
  await waitFor(what, condition, 60_000);
  child.kill("SIGKILL");
  await exited;
}

describe("crashes", () => {
  it("reports cancelled when a worker died after sending the cancel, and publishes one result", async () => {
    h = await startHarness({ env: fastLocks });
    const id = h.sim.store.add({ status: "Pending" }).id;
    // Defender applies the cancel on arrival but answers late: the worker dies before it hears back.
    h.sim.injectFault({ endpoint: "cancel", delayMs: 15_000 });
    await h.enqueue([{ machineActionId: id, comment: "x" }]);
    await crashWorkerWhen("the cancel to arrive", () => h.sim.requestCount("cancel") === 1);
    expect(h.sim.store.get(id)?.status).toBe("Cancelled");

    await h.startWorker();
    const [result] = await h.results(1, 30_000);
    expect(result).toMatchObject({ outcome: "cancelled", status: "Cancelled" });
    // The re-run looked, found its own cancel applied, and sent no second one.
    expect(h.sim.requestCount("cancel")).toBe(1);
    expect(await h.resultsQueue.count()).toBe(1);
  });

  it("gives a job that stalled too often a failed result with BullMQ's reason", async () => {
    h = await startHarness({ env: fastLocks });
    const id = h.sim.store.add({ status: "Pending" }).id;
    h.sim.injectFault({ endpoint: "get", delayMs: 30_000, times: 5 });
    // Added by a producer that names no tenant: the job is the default tenant's.
    await h.cancelQueue.add("cancel", { machineActionId: id, comment: "x" }, { jobId: "stalls" });
    await crashWorkerWhen("the first GET", () => h.sim.requestCount("get") === 1);
    await crashWorkerWhen("the GET of the re-run", () => h.sim.requestCount("get") === 2);

    await h.startWorker();
    const [result] = await h.results(1, 30_000);
    expect(result).toMatchObject({
      outcome: "failed",
      machineActionId: id,
      // The job named no tenant: it is the worker's default tenant's, as every other result says.
      tenantId: TENANT,
      error: { code: "upstream" },
    });
    expect(result?.error?.message).toMatch(/stalled/);
    expect(h.sim.requestCount("cancel")).toBe(0);
    // `results` reads the same result off the failed job, tenant included.
    const kept = await waitFor("the result kept on the failed job", async () => {
      const [read] = await readResults(h.cancelQueue);
      return read?.tenantId ? read : undefined;
    });
    expect(kept).toEqual(result);
  });
});

describe("one cancel in flight per action", () => {
  it("waits for a cancel another run still has on the wire, then sends none of its own", async () => {
    h = await startHarness();
    const id = h.sim.store.add({ status: "Pending" }).id;
    // As if another run of this job (after a lost lock) had just sent its cancel and awaits the answer.
    const redis = new Redis(REDIS_URL);
    await redis.set(
      `${h.prefix}:${h.config.cancelQueue}:cancel-claim:${TENANT}:${id}`,
      "other-run",
      "PX",
      1_500,
    );
    redis.disconnect();
    await h.startWorker();
    const started = Date.now();
    await h.enqueue([{ machineActionId: id, comment: "x" }]);
    const [result] = await h.results(1);
    expect(result?.outcome).toBe("cancelled");
    const cancels = h.sim.requests.filter((r) => r.endpoint === "cancel");
    expect(cancels).toHaveLength(1);
    expect((cancels[0]?.at as number) - started).toBeGreaterThanOrEqual(1_200);
  });
});

describe("a run that lost its job's lock", () => {
  it("cannot erase the cancel mark of the run that took the job over", async () => {
    h = await startHarness({ env: fastLocks });
    const id = h.sim.store.add({ status: "Pending" }).id;
    // This run's look at the action is slow, then fails: it will want to save its backoff.
    h.sim.injectFault({ endpoint: "get", status: 500, delayMs: 3_000 });
    await h.startWorker();
    const [job] = await h.enqueue([{ machineActionId: id, comment: "x" }]);
    await waitFor("the first GET", () => h.sim.requestCount("get") === 1);
    // Meanwhile its lock passes to another run, which records its cancel mark and cancels (then dies).
    const key = `${h.prefix}:${h.config.cancelQueue}:${job?.jobId}`;
    const redis = new Redis(REDIS_URL);
    await redis.set(`${key}:lock`, "the-other-run", "PX", 8_000);
    const mark = { failures: 0, firstTriedAt: Date.now(), cancelSentAt: Date.now() };
    await redis.hset(key, "progress", JSON.stringify(mark));
    redis.disconnect();
    h.sim.store.setStatus(id, "Cancelled");
    // Once the other run's lock runs out, the job is taken over again: the mark tells it the cancel was ours.
    const [result] = await h.results(1, 30_000);
    expect(result).toMatchObject({ outcome: "cancelled", status: "Cancelled" });
    expect(h.sim.requestCount("cancel")).toBe(0);
  });
});

describe("retention and Redis settings", () => {
  it("removes finished jobs after RESULT_RETENTION", async () => {
    h = await startHarness({ env: { RESULT_RETENTION: "1s" } });
    await h.startWorker();
    const [first] = await h.enqueue([{ machineActionId: h.sim.store.add().id, comment: "x" }]);
    await h.results(1);
    expect(await h.cancelQueue.getJob(first?.jobId as string)).toBeDefined();
    const jobs = await h.resultsQueue.getJobs(["waiting"]);
    expect(jobs[0]?.opts.removeOnComplete).toEqual({ age: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // let the retention elapse
    // BullMQ evicts old jobs when another one finishes.
    await h.enqueue([{ machineActionId: h.sim.store.add().id, comment: "x" }]);
    await waitFor(
      "the first job to be removed",
      async () => !(await h.cancelQueue.getJob(first?.jobId as string)),
    );
  });

  it("warns loudly at start when Redis may evict keys", async () => {
    h = await startHarness();
    const redis = new Redis(REDIS_URL);
    const [, before] = (await redis.config("GET", "maxmemory-policy")) as string[];
    await redis.config("SET", "maxmemory-policy", "allkeys-lru");
    try {
      await h.startWorker();
    } finally {
      await redis.config("SET", "maxmemory-policy", before ?? "noeviction");
      redis.disconnect();
    }
    expect(
      h.logs.some((l) => l.includes('"level":40') && l.includes("maxmemory-policy is allkeys-lru")),
    ).toBe(true);
  });
});
