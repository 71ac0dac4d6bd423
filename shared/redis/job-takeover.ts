/** Taking a job that waits out of a worker's reach, so a producer can finish it in place. */

import type { Queue } from "bullmq";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

// BullMQ's layout: a job waits in the `wait` (or `paused`) list, or the `prioritized` or `delayed`
// sorted set; a worker takes it into the `active` list with one script (moveToActive) and holds
// its lock `<job key>:lock`. A job whose progress (the worker's JobState) carries `cancelSentAt`
// has sent its cancel; one carrying `result` has its outcome decided. A campaign's jobs carry a
// priority; one an urgent enqueue promoted (jobs/promote-job.ts) has none any more.
const TAKE = `
-- KEYS: wait, paused, prioritized, delayed, active, then per job: its hash, its lock
-- ARGV: token, lockMs, then per job: id, progress to write
local function present(v) return v ~= nil and v ~= cjson.null end
local taken = {}
for i = 1, (#KEYS - 5) / 2 do
  local job, lock, id = KEYS[4 + 2 * i], KEYS[5 + 2 * i], ARGV[1 + 2 * i]
  local free = (tonumber(redis.call("HGET", job, "priority")) or 0) > 0 and redis.call("EXISTS", lock) == 0
  if free then
    local raw = redis.call("HGET", job, "progress")
    local ok, state = pcall(cjson.decode, raw or "0")
    if ok and type(state) == "table" and (present(state.cancelSentAt) or present(state.result)) then free = false end
  end
  if free then
    local removed = redis.call("ZREM", KEYS[3], id) + redis.call("ZREM", KEYS[4], id)
    if removed == 0 then removed = redis.call("LREM", KEYS[1], -1, id) end
    if removed == 0 then removed = redis.call("LREM", KEYS[2], -1, id) end
    if removed > 0 then
      redis.call("LPUSH", KEYS[5], id)
      redis.call("SET", lock, ARGV[1], "PX", ARGV[2])
      redis.call("HSET", job, "progress", ARGV[2 + 2 * i])
      taken[#taken + 1] = id
    end
  end
end
return taken
`;

/**
 * Takes jobs that wait (waiting, prioritized or delayed), carry a priority (a campaign's, not
 * promoted by an urgent enqueue, whose caller awaits a cancel), have sent no cancel and have no
 * decided outcome, moving each into `active` under a lock of our own and writing its progress, all in one
 * script. A worker takes a job with one script too, so exactly one of them gets it: a job a worker
 * already holds (active, locked) or has sent a cancel for is left alone, and a job taken here is
 * out of every worker's reach until its holder finishes it (BullMQ's `moveToCompleted` with
 * `token`). Should the holder die first, the lock expires, BullMQ's stalled check puts the job
 * back, and a worker finds the outcome in its progress and publishes it without calling Defender.
 */
export class JobTakeover {
  private readonly take: LuaScript<string[]>;

  constructor(redis: RedisConnection) {
    this.take = defineScript(redis, "mdeTakeWaitingJobs", null, TAKE);
  }

  /** The ids of the jobs taken; each job's progress becomes `progress[id]`. */
  async takeWaiting(
    queue: Queue,
    jobs: readonly { id: string; progress: object }[],
    lock: { token: string; ms: number },
  ): Promise<string[]> {
    if (jobs.length === 0) return [];
    const { wait, paused, prioritized, delayed, active } = queue.keys;
    const keys = [wait, paused, prioritized, delayed, active].map((k) => k as string);
    for (const job of jobs) keys.push(queue.toKey(job.id), `${queue.toKey(job.id)}:lock`);
    const args = jobs.flatMap((job) => [job.id, JSON.stringify(job.progress)]);
    return this.take(keys.length, ...keys, lock.token, lock.ms, ...args);
  }
}
