/**
 * The small set of errors the product raises. Each maps to exactly one outcome:
 *   UsageError            → exit 2 (bad argument, payload or setting)
 *   OperationalError      → exit 1 (Redis or Defender unreachable, a job failed)
 *   NotFoundError         → re-check until NOT_FOUND_GRACE_MS, then `not_found`
 *   BadRequestError       → `bad_request` (after checking the action did not just turn terminal)
 *   UrlTooLongError       → a BadRequestError for a request line refused as too long: a batched check halves its batch
 *   ForbiddenError        → `forbidden`, never retried (DisallowedOperation: re-check first)
 *   UnauthorizedError     → `unauthorized`, never retried
 *   ThrottledError        → delay until Retry-After, no attempt spent
 *   BudgetWaitError       → delay until our own limiter has budget, no attempt spent
 *   TransientError        → exponential backoff, one attempt spent
 *   ConnectionDroppedError → a TransientError with no answer at all: after a cancel, look at the state first
 *   TokenUnavailableError → Entra ID down: back off without spending attempts, until THROTTLE_GIVE_UP_MS
 * Every one extends MdeCancelError; `isWaitError` tells the two that mean "come back in waitMs".
 */

/** The base of every error the product throws, so a caller can tell ours from a library's. */
export abstract class MdeCancelError extends Error {}

export function isMdeCancelError(err: unknown): err is MdeCancelError {
  return err instanceof MdeCancelError;
}

/** The message of anything thrown, for logs and one-line errors. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Details Defender (or Entra ID) gave about a refusal; never carries secrets. */
export interface UpstreamDetail {
  httpStatus?: number;
  /** Defender's `error.code` (e.g. `DisallowedOperation`) or Entra's `error` (e.g. `invalid_client`). */
  code?: string;
  /** Defender's `error.target`: the request id worth logging for Microsoft support. */
  target?: string;
}

export class UsageError extends MdeCancelError {
  override name = "UsageError";
  readonly exitCode = 2;
}

export class OperationalError extends MdeCancelError {
  override name = "OperationalError";
  readonly exitCode = 1;
}

export abstract class UpstreamError extends MdeCancelError {
  readonly httpStatus?: number;
  readonly upstreamCode?: string;
  readonly target?: string;
  constructor(message: string, detail: UpstreamDetail = {}) {
    super(message);
    this.httpStatus = detail.httpStatus;
    this.upstreamCode = detail.code;
    this.target = detail.target;
  }
}

export class NotFoundError extends UpstreamError {
  override name = "NotFoundError";
}

export class BadRequestError extends UpstreamError {
  override name = "BadRequestError";
}

/** 414, or a 400 naming the URL: a front door refused the request line as too long. */
export class UrlTooLongError extends BadRequestError {
  override name = "UrlTooLongError";
}

export function isUrlTooLong(err: unknown): err is UrlTooLongError {
  return err instanceof UrlTooLongError;
}

export class ForbiddenError extends UpstreamError {
  override name = "ForbiddenError";
  /** Defender answers 403 DisallowedOperation when an action cannot be cancelled any more. */
  get disallowedOperation(): boolean {
    return this.upstreamCode === "DisallowedOperation";
  }
}

export class UnauthorizedError extends UpstreamError {
  override name = "UnauthorizedError";
}

export class TransientError extends UpstreamError {
  override name = "TransientError";
}

/**
 * The connection closed before any answer: the request may or may not have reached Defender. A GET
 * simply goes again; a cancel never does before the action's state has been looked at.
 */
export class ConnectionDroppedError extends TransientError {
  override name = "ConnectionDroppedError";
}

/** Entra ID unreachable, timing out or answering 5xx: nothing is wrong with the job, so it waits. */
export class TokenUnavailableError extends TransientError {
  override name = "TokenUnavailableError";
}

export class ThrottledError extends UpstreamError {
  override name = "ThrottledError";
  constructor(
    message: string,
    readonly waitMs: number,
    detail: UpstreamDetail = {},
  ) {
    super(message, detail);
  }
}

/** Our own limiter has no budget for this call yet; same argument order as ThrottledError. */
export class BudgetWaitError extends MdeCancelError {
  override name = "BudgetWaitError";
  constructor(
    message: string,
    readonly waitMs: number,
  ) {
    super(message);
  }
}

/** A 429 pause or our own budget: nothing is wrong, the call may go again after `waitMs`. */
export function isWaitError(err: unknown): err is ThrottledError | BudgetWaitError {
  return err instanceof ThrottledError || err instanceof BudgetWaitError;
}
