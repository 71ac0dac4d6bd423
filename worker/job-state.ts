import type { CancelResult } from "../shared/contract/cancel-result.js";

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
  /** The decided result: a re-run after a crash republishes it instead of calling Defender again. */
  result?: CancelResult;
}

export function readState(progress: unknown): JobState {
  if (progress && typeof progress === "object" && "failures" in progress) return progress as JobState;
  return { failures: 0 };
}
