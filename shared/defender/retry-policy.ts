/**
 * Pure retry decisions, in the manner of the Azure SDK's retry strategies: Retry-After read as
 * seconds or as an HTTP date and capped; exponential backoff with jitter when it is absent.
 */

/** Microsoft's limits are per minute: without a Retry-After, a 429 waits out a whole window. */
export const DEFAULT_THROTTLE_MS = 60_000;
/** No single Retry-After may park a job longer than this; the next try asks again. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/** Milliseconds a Retry-After header asks for, or undefined when it is absent or unreadable. */
export function parseRetryAfter(header: string | undefined | null, nowMs: number): number | undefined {
  if (header === undefined || header === null) return undefined;
  const text = header.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date (RFC 9110 IMF-fixdate); Date.parse also takes ISO strings, which no server sends.
  if (!/[a-z]{3},? /i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** How long a throttled endpoint pauses: Retry-After when given, capped; 60 s otherwise. */
export function throttleWaitMs(header: string | undefined | null, nowMs: number): number {
  const asked = parseRetryAfter(header, nowMs);
  if (asked === undefined) return DEFAULT_THROTTLE_MS;
  return Math.min(Math.max(asked, 1_000), MAX_RETRY_AFTER_MS);
}

/**
 * Delay before attempt `attempt + 1` after `attempt` transient failures: exponential, capped,
 * with "equal jitter" so workers that failed together do not retry together.
 */
export function backoffMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = BACKOFF_BASE_MS,
): number {
  const exp = Math.min(BACKOFF_MAX_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * When to look again at an action that answered 404: exponential from 1 s, never past the
 * grace period's end. Undefined once the grace is spent (the outcome is then `not_found`).
 */
export function notFoundRecheckMs(firstNotFoundAt: number, nowMs: number, graceMs: number, checks: number) {
  const remaining = firstNotFoundAt + graceMs - nowMs;
  if (remaining <= 0) return undefined;
  return Math.max(1, Math.min(remaining, BACKOFF_BASE_MS * 2 ** Math.max(0, checks - 1)));
}
