import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { type Harness, startHarness } from "../support/harness.js";
import { waitFor } from "../support/wait.js";
import {
  cancelsPerAction,
  countBy,
  expectNoSecrets,
  record,
  resultTally,
  returnValues,
  track,
} from "./support/evidence.js";
import { spawnWorker, stopWorkers, type WorkerProcess } from "./support/processes.js";

let h: Harness | undefined;
let workers: WorkerProcess[] = [];
afterEach(async () => {
  await stopWorkers(workers);
  workers = [];
  if (h) expectNoSecrets(h.sim, h.logs);
  await h?.close();
  h = undefined;
});

const LOCK_MS = 2_000;
const HTTP_TIMEOUT_MS = 5_000;
// The per-action claim the worker takes before a cancel (worker/cancel-worker.ts): a run killed
// after taking it, before its POST reached Defender, leaves it to run out on its own.
const CLAIM_MS = 2 * HTTP_TIMEOUT_MS + 5_000;
const JOBS = 500;

describe("crash: kill -9 one of three workers mid-campaign", () => {
  it("gives every job exactly one result, cancels no action twice, recovers stalled jobs within the lock plus the cancel claim", async () => {
    h = await startHarness({
      // Slow enough answers that the killed worker holds jobs at every step, cancels on the wire included.
      sim: { rateLimits: [], latencyMs: 100 },
      env: {
        WORKER_LOCK_MS: String(LOCK_MS),
        HTTP_TIMEOUT_MS: String(HTTP_TIMEOUT_MS),
        MDE_RATE_LIMITS: "100000/1m",
        LOG_LEVEL: "info",
      },
    });
    const sim = h.sim;
    const ids = [
      ...Array.from({ length: 400 }, () => sim.store.add({ status: "Pending" }).id),
      ...Array.from({ length: 100 }, () => sim.store.add({ status: "Succeeded" }).id),
    ];
    const file = join(mkdtempSync(join(tmpdir(), "mde-crash-")), "ids.txt");
    writeFileSync(file, ids.join("\n"));
    const enqueue = await runCli(
      ["campaign", "--comment", "crash", "--ids-file", file, "--name", "crash"],
      h.env,
    );
    track(enqueue.stdout, enqueue.stderr);
    expect(enqueue.code).toBe(0);

    workers = [spawnWorker(h.env), spawnWorker(h.env), spawnWorker(h.env)];
    const queue = h.cancelQueue;
    // Hang guards, not the property: three worker processes start through tsx (tens of seconds each
    // on a loaded 2-core machine) before the first result.
    await waitFor("150 results", async () => ((await h?.resultsQueue.count()) ?? 0) >= 150, 180_000);
    const victim = workers[0] as WorkerProcess;
    const activeAtKill = (await queue.getActive()).map((j) => String(j.id));
    const cancelsBefore = sim.requestCount("cancel");
    victim.child.kill("SIGKILL");
    const killedAt = Date.now();
    await victim.exited;

    // The jobs the dead worker held come back after its lock expires; the others finish as usual.
    await waitFor(
      "every job active at the kill to finish",
      async () => {
        const states = await Promise.all(activeAtKill.map((id) => queue.getJobState(id)));
        return states.every((s) => s === "completed" || s === "unknown");
      },
      60_000,
    );
    const recoveredMs = Date.now() - killedAt;
    await waitFor(`${JOBS} results`, async () => ((await h?.resultsQueue.count()) ?? 0) >= JOBS, 60_000);
    await waitFor(
      "no job left",
      async () => (await queue.getJobCountByTypes("active", "wait", "delayed", "prioritized")) === 0,
    );

    const { results, duplicates } = await resultTally(h.resultsQueue);
    const values = await returnValues(queue);
    const stalled = (await queue.getJobs(["completed"])).filter((j) => (j.stalledCounter ?? 0) > 0);
    const cancels = cancelsPerAction(sim);
    const resultIds = new Set(results.map((r) => r.jobId));
    const lost = [...values.keys()].filter((id) => !resultIds.has(id)).length + (JOBS - values.size);
    const mismatched = results.filter((r) => values.get(r.jobId)?.outcome !== r.outcome).length;
    const figures = {
      jobs: JOBS,
      results: results.length,
      duplicates,
      lost,
      mismatched,
      outcomes: countBy(results, (r) => r.outcome),
      activeAtKill: activeAtKill.length,
      stalledRecovered: stalled.length,
      // Re-runs that found their own cancel applied (sent before the kill) and sent no second one.
      recoveredAfterCancelSent: stalled.filter((j) => (j.progress as { cancelSentAt?: number })?.cancelSentAt)
        .length,
      recoveredMs,
      lockMs: LOCK_MS,
      claimMs: CLAIM_MS,
      cancelsOnWireAtKill: cancelsBefore,
      cancelPosts: cancels.total,
      doubleCancels: cancels.doubled.length,
    };
    record("crash", figures);
    expect(results).toHaveLength(JOBS);
    expect(duplicates).toBe(0);
    expect(lost).toBe(0);
    expect(mismatched).toBe(0);
    expect(figures.outcomes).toEqual({ cancelled: 400, already_terminal: 100 });
    expect(cancels.doubled).toEqual([]);
    expect(cancels.total).toBe(400);
    expect(stalled.length).toBeGreaterThan(0);
    // Bounded by the lock and the claim, not by luck: a held job is back in the queue within the lock's
    // expiry plus one stalled check (2 × LOCK_MS); one whose run had claimed its action and not yet
    // reached Defender waits, delayed, until that claim runs out (CLAIM_MS after its last renewal, at
    // the kill at the latest). 5 s more for the re-runs themselves on a busy machine.
    expect(recoveredMs).toBeLessThan(2 * LOCK_MS + CLAIM_MS + 5_000);

    const campaign = await runCli(["results", "--campaign", "crash", "--json"], h.env);
    track(campaign.stdout, campaign.stderr);
    expect(campaign.stdout.trim().split("\n")).toHaveLength(JOBS);
  });
});

describe("stalled twice (see also test/integration/worker-crash.test.ts)", () => {
  it("gives a job whose worker died twice exactly one failed result, and no cancel", async () => {
    h = await startHarness({ env: { WORKER_LOCK_MS: "1500", HTTP_TIMEOUT_MS: "20000" } });
    const sim = h.sim;
    const id = sim.store.add({ status: "Pending" }).id;
    sim.injectFault({ endpoint: "get", delayMs: 30_000, times: 5 });
    const [job] = await h.enqueue([{ machineActionId: id, comment: "x" }]);
    for (const gets of [1, 2]) {
      const w = spawnWorker(h.env);
      // A hang guard: the worker's start (tsx) and, the second time, the stalled check come first.
      await waitFor(`GET number ${gets}`, () => sim.requestCount("get") === gets, 90_000);
      w.child.kill("SIGKILL");
      await w.exited;
    }
    await h.startWorker();
    await waitFor(
      "the job to fail",
      async () => (await h?.cancelQueue.getJobState(job?.jobId as string)) === "failed",
      90_000,
    );
    // The job is final: whatever would publish a second result has had its chance.
    await waitFor("its result", async () => ((await h?.resultsQueue.count()) ?? 0) >= 1);
    const { results, duplicates } = await resultTally(h.resultsQueue);
    record("stalled-twice", {
      jobs: 1,
      results: results.length,
      duplicates,
      outcome: results[0]?.outcome,
      error: results[0]?.error?.code,
      cancelPosts: sim.requestCount("cancel"),
    });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ jobId: job?.jobId, outcome: "failed", error: { code: "upstream" } });
    expect(results[0]?.error?.message).toMatch(/stalled/);
    expect(sim.requestCount("cancel")).toBe(0);
  });
});
