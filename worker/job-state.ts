import type { CancelResult } from "../shared/contract/cancel-result.js";
import type { SeenStatus } from "../shared/contract/seen-status.js";
import type { CAMPAIGN_BUDGET_DELAY } from "../shared/redis/queues.js";

/** Why a job goes back to Redis to wait; metrics count each. */
export const DELAY_REASONS = [
  "budget",
  "throttled",
  "token",
  "in_flight",
  "not_found",
  "transient",
  "shutdown",
] as const;
export type DelayReason = (typeof DELAY_REASONS)[number];

/**
 * What the worker remembers about a job between its runs, kept on the job itself (BullMQ's
 * progress field) so it survives crashes and vanishes with the job.
 */
export interface JobState {
  /** When the first run began: THROTTLE_GIVE_UP_MS counts from here. */
  firstTriedAt?: number;
  /** Transient failures so far; MAX_ATTEMPTS bounds them. 429s and budget waits are not counted. */
  failures: number;
  /** Consecutive waits for Entra ID (not attempts: the job is fine, the sign-in is down). */
  tokenWaits?: number;
  /** First 404: NOT_FOUND_GRACE_MS counts from here. */
  notFoundSince?: number;
  notFoundChecks?: number;
  /**
   * Written before the cancel leaves, so a re-run after a crash knows a `Cancelled` action is ours;
   * taken back when Defender surely did not act on it (a 4xx, or it never left): see sendCancel.
   */
  cancelSentAt?: number;
  /**
   * Why the last run put the job back to wait, saved (fenced, like every progress write) before the
   * job enters the delayed set; `campaign_budget` when it waited only for the campaign's share. An
   * urgent enqueue that promotes the job ends that wait at once and keeps any other.
   */
  delayedFor?: DelayReason | typeof CAMPAIGN_BUDGET_DELAY;
  /**
   * The status the last run checked, when its cancel then waited for budget or a 429 pause: a run
   * within SEEN_FRESH_MS goes straight to the cancel, as with a campaign's fresh `seen`.
   */
  seen?: SeenStatus;
  /** The decided result: a re-run after a crash republishes it instead of calling Defender again. */
  result?: CancelResult;
}

export function readState(progress: unknown): JobState {
  if (progress && typeof progress === "object" && "failures" in progress) return progress as JobState;
  return { failures: 0 };
}
