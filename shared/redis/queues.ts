/**
 * The only module that knows queue names, job names and job-id rules, and how long finished jobs
 * stay (`retentionOptions`, one rule for workers and the queues they publish to).
 */

import { createHash, randomBytes } from "node:crypto";
import { type KeepJobs, Queue } from "bullmq";
import type { Config } from "../config/config.js";
import type { RedisConnection } from "./connection.js";

export const CANCEL_JOB_NAME = "cancel";
export const RESULT_JOB_NAME = "result";

/**
 * A fresh id per enqueue: 128 random bits in 22 URL-safe characters. BullMQ forbids `:` and
 * integer-looking ids; a CLI argument must not start with `-`. The id sits in four places per waiting
 * job (its key, its options, the wait list and the deduplication key): 14 characters shorter than a
 * UUID, it saves about 180 bytes of Redis per waiting job.
 */
export function newJobId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (/^[A-Za-z0-9]/.test(id) && !/^\d+$/.test(id)) return id;
  }
}

/**
 * What a worker records in a job's progress (`delayedFor`) when it puts the job back to wait only
 * because the campaign's share of the budget was spent. An urgent enqueue that promotes such a job
 * may wake it at once (jobs/promote-job.ts); any other delay (a 429 pause, a 404 re-check, a backoff)
 * is kept. A campaign job delayed before it ever ran waits for its campaign's pace
 * (jobs/campaign-pace.ts), also only for budget: promotion wakes it too.
 */
export const CAMPAIGN_BUDGET_DELAY = "campaign_budget";

/**
 * One job per action while it is waiting, delayed or active, whichever producer added it: 22 URL-safe
 * characters (132 bits of SHA-256) of the tenant and action, lower-cased. A digest, not the 73
 * characters of both ids: BullMQ writes the id into the deduplication key's name and into every
 * waiting job's options, and the shorter one saves about 160 bytes of Redis per waiting job
 * (1,438 -> 1,278 B; 1,119 -> 943 B with `hash-max-listpack-value 512`, docs/operations.md).
 */
export function deduplicationId(tenantId: string, machineActionId: string): string {
  const key = `${tenantId.toLowerCase()}_${machineActionId.toLowerCase()}`;
  return createHash("sha256").update(key).digest("base64url").slice(0, 22);
}

/**
 * A result's job id derives from its cancel job's id, so publishing it twice (a crash between
 * publishing and completing) adds nothing the second time.
 */
export function resultJobId(cancelJobId: string): string {
  // A producer that adds a job with BullMQ directly and no id of its own gets an integer id, which
  // BullMQ refuses as a custom id: escape it (and anything already escaped, so no two ids collide).
  const integer = String(Number.parseInt(cancelJobId, 10)) === cancelJobId;
  return integer || cancelJobId.startsWith("~") ? `~${cancelJobId}` : cancelJobId;
}

/**
 * Finished jobs (and so their results) are kept for RESULT_RETENTION. Cancel jobs leave it out of
 * their options: BullMQ stores the options in every waiting job's hash (about 64 bytes of Redis more
 * per job), and the worker finishing the job applies its own (cancel-worker.ts), as does an abort.
 */
export function retentionOptions(config: Pick<Config, "resultRetentionMs">): {
  removeOnComplete: KeepJobs;
  removeOnFail: KeepJobs;
} {
  const age = Math.ceil(config.resultRetentionMs / 1000);
  return { removeOnComplete: { age }, removeOnFail: { age } };
}

export function openQueue(
  name: string,
  connection: RedisConnection,
  config: Pick<Config, "queuePrefix">,
): Queue {
  return new Queue(name, { connection, prefix: config.queuePrefix });
}

/** Deliveries of signed callbacks, recorded by workers and sent by `serve`: one queue beside the cancel queue. */
export function callbacksQueueName(config: Pick<Config, "cancelQueue">): string {
  return `${config.cancelQueue}-callbacks`;
}

/** Redis key prefix for our own keys (limiter, cancel markers), in the queue's hash slot. */
export function keyPrefix(config: Pick<Config, "queuePrefix" | "cancelQueue">): string {
  return `${config.queuePrefix}:${config.cancelQueue}`;
}
