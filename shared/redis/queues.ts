/**
 * The only module that knows queue names, job names and job-id rules, and how long finished jobs
 * stay (`retentionOptions`, one rule for producers and workers).
 */

import { randomUUID } from "node:crypto";
import { type KeepJobs, Queue } from "bullmq";
import type { Config } from "../config/config.js";
import type { RedisConnection } from "./connection.js";

export const CANCEL_JOB_NAME = "cancel";
export const RESULT_JOB_NAME = "result";

/** A fresh id per enqueue: BullMQ forbids `:` and integer-looking ids; a UUID is neither. */
export function newJobId(): string {
  return randomUUID();
}

/** One job per action while it is waiting, delayed or active, whichever producer added it. */
export function deduplicationId(tenantId: string, machineActionId: string): string {
  return `${tenantId.toLowerCase()}_${machineActionId.toLowerCase()}`;
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

/** Finished jobs (and so their results) are kept for RESULT_RETENTION; one rule for jobs and workers alike. */
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

/** Redis key prefix for our own keys (limiter, cancel markers), in the queue's hash slot. */
export function keyPrefix(config: Pick<Config, "queuePrefix" | "cancelQueue">): string {
  return `${config.queuePrefix}:${config.cancelQueue}`;
}
