import { randomUUID } from "node:crypto";
import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "./config.js";

/** The only module that knows queue names, job names and job-id rules. */

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
  return cancelJobId;
}

export function retentionOptions(
  config: Pick<Config, "resultRetentionMs">,
): Pick<JobsOptions, "removeOnComplete" | "removeOnFail"> {
  const age = Math.ceil(config.resultRetentionMs / 1000);
  return { removeOnComplete: { age }, removeOnFail: { age } };
}

export function openQueue(name: string, connection: Redis, config: Pick<Config, "queuePrefix">): Queue {
  return new Queue(name, { connection, prefix: config.queuePrefix });
}

/** Redis key prefix for our own keys (limiter, cancel markers), in the queue's hash slot. */
export function keyPrefix(config: Pick<Config, "queuePrefix" | "cancelQueue">): string {
  return `${config.queuePrefix}:${config.cancelQueue}`;
}
