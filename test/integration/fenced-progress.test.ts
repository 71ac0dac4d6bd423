import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { FencedProgress } from "../../shared/redis/fenced-progress.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

const prefix = uniquePrefix();
const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
afterAll(async () => {
  connection.disconnect();
  await deleteKeys(prefix);
});

describe("FencedProgress", () => {
  it("writes a job's progress while the run holds its lock, and refuses once the lock passed on", async () => {
    const queue = new Queue("fenced", { connection, prefix });
    const worker = new Worker("fenced", null, { connection, prefix, lockDuration: 30_000 });
    try {
      await queue.add("cancel", {});
      const job = await worker.getNextJob("run-a");
      if (!job) throw new Error("no job to take");
      const progress = new FencedProgress(connection);
      await progress.save(job, "run-a", { failures: 0, cancelSentAt: 1 });
      expect((await queue.getJob(job.id as string))?.progress).toEqual({ failures: 0, cancelSentAt: 1 });

      // The lock passes to run B (as after a stall), which writes its own progress.
      await connection.set(`${prefix}:fenced:${job.id}:lock`, "run-b", "PX", 30_000);
      await progress.save(job, "run-b", { failures: 0, cancelSentAt: 2 });
      await expect(progress.save(job, "run-a", { failures: 1 })).rejects.toThrow(
        /lock passed to another run/,
      );
      await expect(progress.save(job, undefined, { failures: 1 })).rejects.toThrow(/lock passed/);
      expect((await queue.getJob(job.id as string))?.progress).toEqual({ failures: 0, cancelSentAt: 2 });
    } finally {
      await worker.close(true);
      await queue.close();
    }
  });
});
