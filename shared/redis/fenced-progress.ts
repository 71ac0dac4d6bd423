/** Job progress written only by the run that holds the job's lock. */

import type { Job } from "bullmq";
import { OperationalError } from "../core/errors.js";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

// BullMQ keeps a job in the hash `<prefix>:<queue>:<id>` and its lock, the token of the run that
// holds it, in `<prefix>:<queue>:<id>:lock`.
const WRITE = `if redis.call("GET", KEYS[2]) ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], "progress", ARGV[2])
return 1`;

/**
 * Writes a job's progress only while the writing run holds the job's lock; BullMQ's own
 * `updateProgress` checks no lock, so the last writer wins. A run that lost its lock (a stalled
 * event loop, a Redis blip) is superseded by another run of the same job, and must not overwrite
 * what that run wrote: above all its "cancel sent" mark, whose loss turns a later `cancelled` into
 * `already_terminal`. Fencing by the lock (rather than merging fields) keeps one writer at a time,
 * and the next run reads everything the previous lock holder wrote.
 */
export class FencedProgress {
  private readonly write: LuaScript<number>;

  constructor(redis: RedisConnection) {
    this.write = defineScript(redis, "mdeFencedProgress", 2, WRITE);
  }

  /** Saves `progress` on `job`, or throws when `token` no longer holds its lock (nothing is written). */
  async save(job: Job, token: string | undefined, progress: object): Promise<void> {
    const key = `${job.queueQualifiedName}:${job.id}`;
    const written =
      token !== undefined && (await this.write(key, `${key}:lock`, token, JSON.stringify(progress)));
    if (written !== 1)
      throw new OperationalError(
        `job ${job.id} is no longer this run's (its lock passed to another run); its progress is left as that run wrote it`,
      );
    job.progress = progress;
  }
}
