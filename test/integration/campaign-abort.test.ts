/**
 * `campaign --abort`: the campaign's jobs that wait and have sent no cancel finish in place with
 * `failed`/`aborted`, readable and published like any result; jobs in hand are left to finish.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { Producer } from "../../jobs/producer.js";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import { JobTakeover } from "../../shared/redis/job-takeover.js";
import { runCli } from "../support/cli.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
let producer: Producer | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await producer?.close();
  await h?.close();
  h = producer = undefined;
});

async function open(options: Parameters<typeof startHarness>[0] = {}) {
  h = await startHarness(options);
  producer = await Producer.open(h.config);
  return { harness: h, producer };
}

/**
 * BullMQ's own way of taking jobs one by one (as our worker does, without running it): each comes
 * active under a lock, as a worker holds it.
 */
function manualWorker(harness: Harness) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(harness.config.cancelQueue, null, { connection, prefix: harness.prefix });
  closers.push(async () => {
    await worker.close(true);
    connection.disconnect();
  });
  return async () => {
    const token = randomUUID();
    return { job: (await worker.getNextJob(token)) as Job, token };
  };
}

describe("campaign --abort", () => {
  it("finishes the waiting jobs in place and leaves those in hand or whose cancel was sent", async () => {
    const { harness, producer } = await open();
    const ids = Array.from({ length: 5 }, () => harness.sim.store.add({ status: "Pending" }).id);
    const [sent, budget, inHand, waiting, promoted] = ids as [string, string, string, string, string];
    await producer.startCampaign(
      {
        tenantId: TENANT,
        source: { ids, label: "t" },
        comment: "x",
        campaignId: "ab",
      },
      // No checks before enqueuing: Defender hears of no action before the abort.
      { lookUp: false },
    );
    // As the worker leaves them: a job whose cancel went out and then backs off; one delayed for
    // budget before any cancel; one a worker is running now. The other two wait (prioritized).
    const next = manualWorker(harness);
    const a = await next();
    await a.job.updateProgress({ failures: 1, firstTriedAt: Date.now(), cancelSentAt: Date.now() });
    await a.job.moveToDelayed(Date.now() + 1_000, a.token);
    const b = await next();
    await b.job.updateProgress({ failures: 0, firstTriedAt: Date.now() });
    await b.job.moveToDelayed(Date.now() + 60_000, b.token);
    const c = await next();
    expect([a, b, c].map((t) => t.job.data.machineActionId)).toEqual([sent, budget, inHand]);
    // A playbook's urgent cancel joined one of the waiting jobs: it is the playbook's now.
    const [joined] = await producer.enqueue([{ machineActionId: promoted, comment: "urgent" }]);
    expect(joined?.promoted).toBe(true);

    expect(await producer.abortCampaign("ab")).toEqual({ campaignId: "ab", aborted: 2 });

    const aborted = [budget, waiting];
    const results = await producer.results({ campaignId: "ab" });
    expect(results.map((r) => r.machineActionId).sort()).toEqual([...aborted].sort());
    for (const r of results)
      expect(r).toMatchObject({
        outcome: "failed",
        campaignId: "ab",
        tenantId: TENANT,
        comment: "x",
        error: { code: "aborted" },
      });
    // Published like the worker's: on the results queue, and counted by the campaign.
    const published = (await harness.results(2)).map((r) => r.machineActionId).sort();
    expect(published).toEqual([...aborted].sort());
    expect(await producer.campaign("ab")).toMatchObject({ total: 5, done: 2, counts: { failed: 2 } });
    expect(await harness.cancelQueue.getJobCounts("delayed", "active", "completed", "wait")).toEqual({
      delayed: 1,
      active: 1,
      completed: 2,
      wait: 1,
    });
    // Each aborted action is free again; one still in hand is not.
    const [again, held] = await producer.enqueue([
      { machineActionId: waiting, comment: "again" },
      { machineActionId: inHand, comment: "again" },
    ]);
    expect(again?.added).toBe(true);
    expect(held).toMatchObject({ added: false, jobId: c.job.id });
    await harness.cancelQueue.remove(again?.jobId as string);

    // The worker finishes the rest; Defender never hears of the aborted ones.
    await c.job.moveToDelayed(Date.now(), c.token); // the manual run gives its job back
    await harness.startWorker();
    const record = await producer.waitForCampaign("ab", { intervalMs: 100 });
    expect(record).toMatchObject({ total: 5, done: 5, counts: { cancelled: 3, failed: 2 } });
    // Batched checks name their ids in the query.
    const touched = harness.sim.requests.filter((r) => ["get", "list", "cancel"].includes(r.endpoint));
    for (const id of aborted) expect(touched.filter((r) => `${r.path}${r.query}`.includes(id))).toEqual([]);
  });

  it("is safe against workers taking the same jobs at the same moment", async () => {
    // 150 jobs drain through a worker at concurrency 20 while the abort runs: every job ends with
    // one result, and no aborted action was ever cancelled.
    const { harness, producer } = await open({
      sim: { rateLimits: [], latencyMs: 20 },
      env: { WORKER_CONCURRENCY: "20", MDE_RATE_LIMITS: "10000/1m" },
    });
    const ids = Array.from({ length: 150 }, () => harness.sim.store.add({ status: "Pending" }).id);
    await producer.startCampaign({
      tenantId: TENANT,
      source: { ids, label: "t" },
      comment: "x",
      campaignId: "race",
    });
    // Stored once, in the campaign's record: its jobs leave the comment out.
    const [stored] = await harness.cancelQueue.getPrioritized(0, 0);
    expect(stored?.data).toMatchObject({ campaignId: "race" });
    expect(stored?.data).not.toHaveProperty("comment");
    // Nor their retention: the worker (or the abort) finishing a job applies RESULT_RETENTION.
    expect(stored?.opts).not.toHaveProperty("removeOnComplete");
    expect(stored?.opts).not.toHaveProperty("removeOnFail");
    await harness.startWorker();
    await waitFor("the first results", async () => ((await producer.campaign("race"))?.done ?? 0) > 10);
    const { aborted } = await producer.abortCampaign("race");
    const record = await producer.waitForCampaign("race", { intervalMs: 100 });
    expect(record?.done).toBe(150);
    expect(record?.counts.failed).toBe(aborted);
    // The record counts a result when it is published; its job is marked finished just after (the
    // worker returns), which on a loaded machine can be a moment later: `results` reads finished jobs.
    const results = await waitFor("150 finished jobs", async () => {
      const read = await producer.results({ campaignId: "race" });
      return read.length === 150 ? read : undefined;
    });
    expect(results).toHaveLength(150);
    const cancelledIds = new Set(
      harness.sim.requests
        .filter((r) => r.endpoint === "cancel")
        .map((r) => r.path.split("/")[3]?.toLowerCase()),
    );
    const abortedIds = results.filter((r) => r.error?.code === "aborted").map((r) => r.machineActionId);
    expect(abortedIds).toHaveLength(aborted);
    for (const id of abortedIds) expect(cancelledIds.has(id as string), id as string).toBe(false);
    expect(results.filter((r) => r.outcome === "cancelled")).toHaveLength(150 - aborted);
    // The jobs left the comment to the campaign's record; the worker sent it, and every result carries it.
    for (const r of results) expect(r).toMatchObject({ comment: "x", tenantId: TENANT });
    for (const r of results.filter((x) => x.outcome === "cancelled"))
      expect(r.action?.cancellationComment).toBe("x");
  });

  it("keeps the jobs it finished for RESULT_RETENTION only, as a worker does", async () => {
    const { harness, producer } = await open({ env: { RESULT_RETENTION: "1s" } });
    const start = (campaignId: string) =>
      producer.startCampaign(
        {
          tenantId: TENANT,
          source: { ids: [harness.sim.store.add().id], label: "t" },
          comment: "x",
          campaignId,
        },
        { lookUp: false },
      );
    await start("old");
    const [old] = await harness.cancelQueue.getJobs(["prioritized"]);
    expect((await producer.abortCampaign("old")).aborted).toBe(1);
    expect(await harness.cancelQueue.getJob(String(old?.id))).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // let the retention elapse
    // BullMQ evicts old finished jobs when another one finishes: the next abort's.
    await start("new");
    expect((await producer.abortCampaign("new")).aborted).toBe(1);
    await waitFor(
      "the old aborted job to be removed",
      async () => !(await harness.cancelQueue.getJob(String(old?.id))),
    );
  });

  it("leaves a job it took to the worker, with its aborted result, when it dies before finishing it", async () => {
    // WORKER_LOCK_MS 1 s: BullMQ's stalled check runs every second.
    const { harness, producer } = await open({ env: { WORKER_LOCK_MS: "1000" } });
    const id = harness.sim.store.add({ status: "Pending" }).id;
    await producer.startCampaign(
      {
        tenantId: TENANT,
        source: { ids: [id], label: "t" },
        comment: "x",
        campaignId: "d",
      },
      // No checks before enqueuing: Defender hears of no action before the abort.
      { lookUp: false },
    );
    const [job] = await harness.cancelQueue.getJobs(["prioritized"]);
    const decided: Partial<CancelResult> = {
      jobId: String(job?.id),
      machineActionId: id,
      tenantId: TENANT,
      outcome: "failed",
      error: { code: "aborted", message: "aborted" },
      campaignId: "d",
    };
    // Taken with a lock that lapses, and never finished: the abort died.
    const redis = new Redis(REDIS_URL);
    closers.push(async () => redis.disconnect());
    const taken = await new JobTakeover(redis).takeWaiting(
      harness.cancelQueue,
      [{ id: String(job?.id), progress: { failures: 0, result: decided } }],
      { token: randomUUID(), ms: 500 },
    );
    expect(taken).toEqual([String(job?.id)]);
    await harness.startWorker();
    const [result] = await harness.results(1);
    expect(result).toMatchObject({ machineActionId: id, outcome: "failed", error: { code: "aborted" } });
    expect(harness.sim.requests.filter((r) => ["get", "list", "cancel"].includes(r.endpoint))).toEqual([]);
    expect(await producer.campaign("d")).toMatchObject({ done: 1, counts: { failed: 1 } });
  });

  it("is a command: needs no --comment, prints the count, --json, exit 2 for an unknown campaign", async () => {
    const { harness } = await open();
    const ids = [harness.sim.store.add().id, harness.sim.store.add().id];
    const file = join(mkdtempSync(join(tmpdir(), "mde-ids-")), "ids.txt");
    writeFileSync(file, ids.join("\n"));
    const env = { ...harness.env, LOG_LEVEL: "info" };
    expect(
      (await runCli(["campaign", "--comment", "x", "--ids-file", file, "--name", "cli"], env)).code,
    ).toBe(0);
    const text = await runCli(["campaign", "--abort", "cli"], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Campaign cli: 2 job\(s\) aborted/);
    const json = await runCli(["campaign", "--abort", "cli", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual({ campaignId: "cli", aborted: 0 });
    const results = await runCli(["results", "--campaign", "cli", "--json"], env);
    const lines = results.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as CancelResult);
    expect(lines.map((r) => r.error?.code)).toEqual(["aborted", "aborted"]);
    const unknown = await runCli(["campaign", "--abort", "nope"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No campaign nope is kept in Redis/);
    const mixed = await runCli(["campaign", "--abort", "cli", "--wait"], env);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--abort takes only --json, not --wait/);
  });
});
