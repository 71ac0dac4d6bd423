/**
 * Shared, atomic sliding-window limiter for Defender calls, per tenant and endpoint, across every worker
 * process and host. All decisions run in one Lua script timed by Redis's own clock (`TIME`), so host
 * clock skew does not matter.
 *
 * Keys, for `base = ${prefix}:rl:${tenantId}:${endpoint}` (all share the prefix, so a hash tag in the
 * prefix keeps them in one Redis Cluster slot):
 *   `${base}:log`              zset of all admitted calls (score = Redis ms, member = "<ms>-<seq>")
 *   `${base}:log:campaign`     zset of admitted campaign calls (also present in `:log`)
 *   `${base}:seq`              counter making members unique within one millisecond
 *   `${base}:pause`            set by `pause()` with PX = the pause; its PTTL is the remaining pause
 *   `${base}:ticket:urgent`    next wake time (Redis ms) handed to a refused urgent caller
 *   `${base}:ticket:campaign`  next wake time (Redis ms) handed to a refused campaign caller
 * Logs and counter expire after the longest padded window, tickets once they are in the past, so idle
 * tenants leave nothing behind.
 */

import type { RateWindow } from "../config/durations.js";
import { UsageError } from "../core/errors.js";
import type { Endpoint } from "../defender/endpoints.js";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";
import { PAUSE_SCRIPT, STATUS_SCRIPT, TAKE_SCRIPT } from "./rate-limiter-script.js";

export type TakeResult = { ok: true } | { ok: false; waitMs: number; reason: "budget" | "paused" };

export interface RateLimiterOptions {
  /** e.g. `bull:mde-cancel`; may carry a Redis Cluster hash tag such as `{mde}`. */
  prefix: string;
  /** Every window is enforced at once, e.g. 100/1 min and 1,500/1 h. */
  windows: RateWindow[];
  /** Share of each window that campaign (bulk) calls may use; urgent calls may use all of it. */
  campaignShare: number;
}

export interface RateLimiterStatus {
  windows: { limit: number; windowMs: number; used: number; left: number }[];
  pausedForMs: number;
}

export const DEFAULT_CAMPAIGN_SHARE = 0.8;
/**
 * Microsoft counts calls when they arrive, and a call on a cold TLS connection can arrive a few
 * hundred ms after it took budget: each recorded call occupies its window this much longer.
 */
export const MIN_PAD_MS = 500;
export const PAD_FRACTION = 0.02;
/**
 * Tickets are spaced this fraction wider than the exact sustainable rate. At exactly that rate a woken
 * caller that arrives a few ms earlier (relative to its slot) than the caller one window before it finds
 * the window still full and goes to the back of the queue; the slack absorbs that jitter (1 % of the
 * window: 36 s per hour, 0.6 s per minute).
 */
export const TICKET_SLACK = 0.01;

/** How long one recorded call counts against a window: `windowMs + max(500, ceil(2 % of windowMs))`. */
export function paddedWindowMs(windowMs: number): number {
  return windowMs + Math.max(MIN_PAD_MS, Math.ceil(windowMs * PAD_FRACTION));
}

/** Calls a campaign may make per window: `floor(limit * share)`, at least 1 and at most `limit`. */
export function campaignCap(limit: number, share: number): number {
  // The epsilon keeps e.g. 100 * 0.29 = 28.999999999999996 from flooring to 28.
  return Math.min(limit, Math.max(1, Math.floor(limit * share + 1e-9)));
}

/** The cap a class of caller works against in one window. */
export function classCap(window: RateWindow, share: number, campaign: boolean): number {
  return campaign ? campaignCap(window.limit, share) : window.limit;
}

/** Spacing between tickets that keeps `cap` calls per padded window, widened by `TICKET_SLACK`. */
export function ticketSpacingMs(windowMs: number, cap: number): number {
  return Math.ceil((paddedWindowMs(windowMs) * (1 + TICKET_SLACK)) / cap);
}

/**
 * The slowest ticket spacing over all windows for a class: the rate that every window sustains forever.
 * (The script spaces tickets by the windows that actually refused, which is never slower than this.)
 */
export function sustainableSpacingMs(
  windows: readonly RateWindow[],
  share: number,
  campaign: boolean,
): number {
  return Math.max(...windows.map((w) => ticketSpacingMs(w.windowMs, classCap(w, share, campaign))));
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
}

/** The script arguments (after the class flag) for one class of caller. */
export function takeArguments(
  windows: readonly RateWindow[],
  share: number,
  campaign: boolean,
): (string | number)[] {
  const horizon = Math.max(...windows.map((w) => paddedWindowMs(w.windowMs)));
  const args: (string | number)[] = [campaign ? 1 : 0, horizon, windows.length];
  for (const w of windows) {
    const cap = classCap(w, share, campaign);
    args.push(
      paddedWindowMs(w.windowMs),
      w.limit,
      campaignCap(w.limit, share),
      ticketSpacingMs(w.windowMs, cap),
    );
  }
  return args;
}

export class RateLimiter {
  private readonly take_: LuaScript<[number, number, number]>;
  private readonly pause_: LuaScript<number>;
  private readonly status_: LuaScript<number[]>;
  private readonly urgentArgs: (string | number)[];
  private readonly campaignArgs: (string | number)[];
  private readonly windows: RateWindow[];
  private readonly prefix: string;
  private readonly redis: RedisConnection;

  constructor(redis: RedisConnection, options: RateLimiterOptions) {
    validateRateLimiterOptions(options);
    this.redis = redis;
    this.prefix = options.prefix;
    this.windows = options.windows.map((w) => ({ limit: w.limit, windowMs: w.windowMs }));
    this.urgentArgs = takeArguments(this.windows, options.campaignShare, false);
    this.campaignArgs = takeArguments(this.windows, options.campaignShare, true);
    this.take_ = defineScript(redis, "mdeRateLimiterTake", 5, TAKE_SCRIPT);
    this.pause_ = defineScript(redis, "mdeRateLimiterPause", 1, PAUSE_SCRIPT);
    this.status_ = defineScript(redis, "mdeRateLimiterStatus", 2, STATUS_SCRIPT);
  }

  /** Takes budget for one call that is about to leave, or says how long to wait before asking again. */
  async take(
    tenantId: string,
    endpoint: Endpoint,
    options: { campaign?: boolean } = {},
  ): Promise<TakeResult> {
    const base = this.base(tenantId, endpoint);
    const campaign = options.campaign === true;
    const reply = await this.take_(
      `${base}:log`,
      `${base}:log:campaign`,
      `${base}:seq`,
      `${base}:pause`,
      `${base}:ticket:${campaign ? "campaign" : "urgent"}`,
      ...(campaign ? this.campaignArgs : this.urgentArgs),
    );
    if (reply[0] === 1) return { ok: true };
    return { ok: false, waitMs: reply[1], reason: reply[2] === 1 ? "paused" : "budget" };
  }

  /** Pauses every caller of this tenant's endpoint for at least `ms` (e.g. Retry-After); never shortens. */
  async pause(tenantId: string, endpoint: Endpoint, ms: number): Promise<void> {
    const whole = Math.ceil(ms);
    if (!Number.isFinite(whole) || whole <= 0) return;
    await this.pause_(`${this.base(tenantId, endpoint)}:pause`, whole);
  }

  /** Calls counted in each window right now (all classes) and the remaining pause. */
  async status(tenantId: string, endpoint: Endpoint): Promise<RateLimiterStatus> {
    const base = this.base(tenantId, endpoint);
    const reply = await this.status_(
      `${base}:log`,
      `${base}:pause`,
      this.windows.length,
      ...this.windows.map((w) => paddedWindowMs(w.windowMs)),
    );
    return {
      pausedForMs: reply[0] ?? 0,
      windows: this.windows.map((w, i) => {
        const used = reply[i + 1] ?? 0;
        return { limit: w.limit, windowMs: w.windowMs, used, left: Math.max(0, w.limit - used) };
      }),
    };
  }

  /**
   * Forgets the tickets handed to refused callers. Tickets assume every refused caller comes back; when
   * waiting jobs are removed instead (a campaign aborted or drained), the next refused callers would
   * otherwise queue behind tickets nobody holds, up to (removed jobs x spacing) while budget sits idle.
   */
  async resetTickets(tenantId: string, endpoint: Endpoint): Promise<void> {
    const base = this.base(tenantId, endpoint);
    await this.redis.del(`${base}:ticket:urgent`, `${base}:ticket:campaign`);
  }

  private base(tenantId: string, endpoint: Endpoint): string {
    if (tenantId.length === 0) throw new UsageError("rate limiter: tenant id must not be empty");
    return `${this.prefix}:rl:${tenantId}:${endpoint}`;
  }
}
