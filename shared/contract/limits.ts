/**
 * The contract's limits: the only place these numbers are written in product code. Front doors
 * (CLI, library, HTTP) and the worker's validation all read them from here.
 */

/** A cancellation comment: 1..1000 characters, sent to Defender as the cancel's `Comment`. */
export const MAX_COMMENT_CHARS = 1000;
/** `requestedBy`, `correlationId` and `campaignId` on a job. */
export const MAX_TEXT_CHARS = 200;
/** A job's data larger than this is refused: nobody needs 16 KB to ask for one cancel. */
export const MAX_JOB_DATA_BYTES = 16 * 1024;
/** BullMQ's priority scale: 1 is the highest of the prioritized; no priority is taken before any. */
export const MAX_PRIORITY = 2_097_151;

export function validPriority(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_PRIORITY;
}

/** Why a comment is refused, or undefined when it is fine. */
export function commentProblem(comment: string): string | undefined {
  if (comment.trim().length === 0) return "must not be empty";
  if (comment.length > MAX_COMMENT_CHARS) return `must be at most ${MAX_COMMENT_CHARS} characters`;
  return undefined;
}
