/**
 * `results` reads the finished jobs newest first, a page at a time: `--since` and `--limit` bound
 * what it prints, and jobs finishing while it reads neither repeat nor sneak in.
 */
import { randomUUID } from "node:crypto";
import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { Producer } from "../../jobs/producer.js";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import { collect, runCli, startCli } from "../support/cli.js";
import { type Harness, newActionId, startHarness } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;

/** Finishes `n` jobs as a worker would (their result as return value), `agoMs` in the past. */
async function finishJobs(harness: Harness, n: number, agoMs = 0, how: "completed" | "failed" = "completed") {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(harness.config.cancelQueue, null, { connection: redis, prefix: harness.prefix });
  const ids: string[] = [];
  try {
    await harness.enqueue(
      Array.from({ length: n }, () => ({ machineActionId: newActionId(), comment: "x" })),
    );
    for (let i = 0; i < n; i++) {
      const token = randomUUID();
      const job = (await worker.getNextJob(token)) as Job;
      const finishedAt = new Date(Date.now() - agoMs).toISOString();
      const result = {
        jobId: String(job.id),
        machineActionId: job.data.machineActionId,
        outcome: "cancelled",
        finishedAt,
      };
      if (how === "completed") await job.moveToCompleted(result, token, false);
      else await job.moveToFailed(new Error("stalled"), token, false);
      if (agoMs > 0) {
        // Finished long ago: BullMQ keeps the finish time on the job and as its score.
        const finishedOn = Date.now() - agoMs;
        await redis.hset(
          `${harness.prefix}:${harness.config.cancelQueue}:${job.id}`,
          "finishedOn",
          finishedOn,
        );
        await redis.zadd(
          `${harness.prefix}:${harness.config.cancelQueue}:${how}`,
          finishedOn,
          String(job.id),
        );
      }
      ids.push(String(job.id));
    }
  } finally {
    await worker.close(true);
    redis.disconnect();
  }
  return ids;
}

const jsonLines = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CancelResult);

describe("mde-cancel results", () => {
  it("prints newest first; --since and --limit bound what it prints", async () => {
    h = await startHarness();
    const old = await finishJobs(h, 2, 3 * HOUR);
    const failed = await finishJobs(h, 1, 0, "failed");
    const recent = await finishJobs(h, 3);
    const env = { ...h.env, LOG_LEVEL: "info" };

    const all = jsonLines((await runCli(["results", "--json"], env)).stdout).map((r) => r.jobId);
    // Newest first (jobs finished within the same millisecond may come in either order).
    const sorted = (ids: string[]) => [...ids].sort();
    expect(sorted(all.slice(0, 3))).toEqual(sorted(recent));
    expect(all.slice(3, 4)).toEqual(failed);
    expect(sorted(all.slice(4))).toEqual(sorted(old));
    const lastHour = await runCli(["results", "--since", "1h", "--json"], env);
    expect(jsonLines(lastHour.stdout).map((r) => r.jobId)).toEqual(all.slice(0, 4));
    const two = await runCli(["results", "--limit", "2", "--json"], env);
    expect(jsonLines(two.stdout).map((r) => r.jobId)).toEqual(all.slice(0, 2));
    for (const bad of [
      ["--since", "yesterday"],
      ["--limit", "0"],
    ]) {
      const run = await runCli(["results", ...bad], env);
      expect(run.code, bad.join(" ")).toBe(2);
      expect(run.stderr).toContain(bad[0]);
    }
  });

  it("--follow prints the kept results, then each new one once, until SIGTERM", async () => {
    h = await startHarness();
    const harness = h;
    const [kept] = await finishJobs(harness, 1);
    const child = startCli(["results", "--follow", "--json"], { ...harness.env, LOG_LEVEL: "info" });
    const exited = collect(child);
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    await waitFor("the kept result", () => stdout.includes(kept as string));
    const fresh = await finishJobs(harness, 3);
    await waitFor("three new results", () => jsonLines(stdout).length >= 4);
    child.kill("SIGTERM");
    const run = await exited;
    expect(run.code).toBe(0); // stopping a follow is its normal end
    const printed = jsonLines(run.stdout).map((r) => r.jobId);
    expect(printed[0]).toBe(kept);
    expect(new Set(printed.slice(1))).toEqual(new Set(fresh));
    expect(printed).toHaveLength(4);
  });

  it("streams page by page: jobs finishing meanwhile are neither repeated nor mixed in", async () => {
    h = await startHarness();
    const producer = await Producer.open(h.config);
    try {
      const before = await finishJobs(h, 7);
      const stream = producer.streamResults({ pageSize: 2 });
      const first = await stream.next();
      // Seven more finish: every page of the read shifts down by seven places.
      await finishJobs(h, 7);
      const rest: string[] = [];
      for await (const r of stream) rest.push(r.jobId);
      const read = [first.value?.jobId, ...rest];
      expect(read).toHaveLength(7);
      expect(new Set(read)).toEqual(new Set(before));
      // The array form: the same newest four, oldest first, whatever the page size.
      const newest: string[] = [];
      for await (const r of producer.streamResults({ limit: 4 })) newest.push(r.jobId);
      const array = await producer.results({ pageSize: 3, limit: 4 });
      expect(array.map((r) => r.jobId)).toEqual(newest.reverse());
    } finally {
      await producer.close();
    }
  });
});
