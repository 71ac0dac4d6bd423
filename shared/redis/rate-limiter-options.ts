/** How the shared limiter is set up, and the sizes it derives from its windows (pure functions). */

import type { RateWindow } from "../config/durations.js";
import { UsageError } from "../core/errors.js";

export interface RateLimiterOptions {
  /** e.g. `bull:mde-cancel`; may carry a Redis Cluster hash tag such as `{mde}`. */
  prefix: string;
  /** Every window is enforced at once, e.g. 100/1 min and 1,500/1 h. */
  windows: RateWindow[];
  /** Share of each window that campaign (bulk) calls may use; urgent calls may use all of it. */
  campaignShare: number;
  /**
   * How long after its admission a call that is never settled (timeout, crash) may still reach
   * Microsoft: the HTTP timeout. It holds its slot that long, then for one window. Default 30,000.
   */
  reservationMs?: number;
}

export const DEFAULT_CAMPAIGN_SHARE = 0.8;
export const DEFAULT_RESERVATION_MS = 30_000;
/** Calls a campaign may make per window: `floor(limit * share)`, at least 1 and at most `limit`. */
export function campaignCap(limit: number, share: number): number {
  // The epsilon keeps e.g. 100 * 0.29 = 28.999999999999996 from flooring to 28.
  return Math.min(limit, Math.max(1, Math.floor(limit * share + 1e-9)));
}

/**
 * How soon a refused caller's slot must free for it to wait in place rather than go back to Redis: a
 * tenth of the shortest window, at most 1 s or twice the usual answer time. So a woken job whose slot
 * frees a little late, or whose cancel follows its check a little ahead of the cancel's own slot, keeps
 * its place and does not repeat its check.
 */
export function nearMs(windows: readonly RateWindow[], answerMs: number): number {
  const shortest = Math.min(...windows.map((w) => w.windowMs));
  return Math.max(1, Math.min(Math.floor(shortest / 10), Math.max(1_000, Math.ceil(2 * answerMs))));
}

/**
 * How long a promised wake time waits for its caller, who may reach a worker a little late (BullMQ's
 * delayed set, a busy worker): a tenth of the shortest window, 1 to 5 s. Promises whose callers never
 * come (jobs removed) then stop holding the queue back.
 */
export function promiseGraceMs(windows: readonly RateWindow[]): number {
  return Math.max(1_000, Math.min(5_000, Math.floor(Math.min(...windows.map((w) => w.windowMs)) / 10)));
}

/** Throws a UsageError unless the options describe a usable limiter. */
export function validateRateLimiterOptions(options: RateLimiterOptions): void {
  if (options.prefix.length === 0) throw new UsageError("rate limiter: prefix must not be empty");
  if (options.windows.length === 0) throw new UsageError("rate limiter: at least one window is required");
  for (const w of options.windows) {
    if (!Number.isSafeInteger(w.limit) || w.limit < 1) {
      throw new UsageError(`rate limiter: limit must be a positive integer, got ${w.limit}`);
    }
    if (!Number.isSafeInteger(w.windowMs) || w.windowMs < 1) {
      throw new UsageError(`rate limiter: windowMs must be a positive integer, got ${w.windowMs}`);
    }
  }
  const share = options.campaignShare;
  if (!Number.isFinite(share) || share <= 0 || share > 1) {
    throw new UsageError(`rate limiter: campaignShare must be in (0, 1], got ${share}`);
  }
  const reservation = options.reservationMs ?? DEFAULT_RESERVATION_MS;
  if (!Number.isSafeInteger(reservation) || reservation < 1) {
    throw new UsageError(`rate limiter: reservationMs must be a positive integer, got ${reservation}`);
  }
}

/** The windows as the take script reads them: count, then length, limit and campaign cap of each. */
export function windowArguments(windows: readonly RateWindow[], share: number): number[] {
  return [windows.length, ...windows.flatMap((w) => [w.windowMs, w.limit, campaignCap(w.limit, share)])];
}
