/**
 * Shared, atomic sliding-window limiter for Defender calls, per tenant and endpoint, across every worker
 * process and host. All decisions run in Lua timed by Redis's own clock (`TIME`), so host clock skew does
 * not matter.
 *
 * A call counts from the moment it is admitted until its answer arrives, since Microsoft counted it
 * somewhere in between: `take` records it open (holding its slot for up to `reservationMs`), and
 * `settle` moves its end to answer + window. No pad: a backlog drains at the window's own pace, less
 * only the answer time (answers within 2 % of the window cost at most 2 %).
 *
 * Keys, for `base = ${prefix}:rl:${tenantId}:${endpoint}` (all share the prefix, so a hash tag in the
 * prefix keeps them in one Redis Cluster slot):
 *   `${base}:log`              zset of calls (score = answer time, or admission + reservation while
 *                              open; member = "<admission ms>-<seq>")
 *   `${base}:log:campaign`     zset of campaign calls (also present in `:log`)
 *   `${base}:seq`              counter making members unique within one millisecond
 *   `${base}:pause`            set by `pause()` with PX = the pause; its PTTL is the remaining pause
 *   `${base}:ticket:urgent`    zset of wake times promised to refused urgent callers
 *   `${base}:ticket:campaign`  zset of wake times promised to refused campaign callers
 * Every key expires once nothing in it matters any more, so idle tenants leave nothing behind.
 */

import type { RateWindow } from "../config/durations.js";
import { UsageError } from "../core/errors.js";
import { sleep } from "../core/sleep.js";
import type { Endpoint } from "../defender/endpoints.js";
import type { RedisConnection } from "./connection.js";
import { holdAdmission, releaseHeldAdmission, takeHeldAdmission } from "./job-admissions.js";
import { defineScript, type LuaScript } from "./lua-script.js";
import {
  DEFAULT_RESERVATION_MS,
  nearMs,
  promiseGraceMs,
  type RateLimiterOptions,
  validateRateLimiterOptions,
  windowArguments,
} from "./rate-limiter-options.js";
import { PAUSE_SCRIPT, STATUS_SCRIPT } from "./rate-limiter-script.js";
import { CLAIM_TAKE_SCRIPT, TAKE_SCRIPT } from "./rate-limiter-take-script.js";
import { SettleBatch } from "./settle-batch.js";

// Exported from here before the options had a file of their own.
export { campaignCap, DEFAULT_CAMPAIGN_SHARE, type RateLimiterOptions } from "./rate-limiter-options.js";

/** An admitted call: `settle` when its answer arrived, `release` when it was never sent. Neither throws. */
export interface Admission {
  ok: true;
  settle(): Promise<void>;
  release(): Promise<void>;
}
export type Refusal = { ok: false; waitMs: number; reason: "budget" | "paused" };
export type TakeResult = Admission | Refusal;

/** A claim taken with the budget of the call it guards (takeClaiming): its key, owner and lifetime. */
export interface ClaimArgs {
  key: string;
  owner: string;
  ms: number;
}

export interface RateLimiterStatus {
  windows: { limit: number; windowMs: number; used: number; left: number }[];
  pausedForMs: number;
}

/** A refused caller whose slot frees this soon waits for it in place, at most this many times. */
export const NEAR_TRIES = 3;

export class RateLimiter {
  private readonly take_: LuaScript<[number, number, number | string, string?]>;
  private readonly claimTake_: LuaScript<[number, number, number | string, string?]>;
  private readonly settles: SettleBatch;
  private readonly pause_: LuaScript<number>;
  private readonly status_: LuaScript<number[]>;
  private readonly windows: RateWindow[];
  private readonly windowArgs: number[];
  private readonly horizonMs: number;
  private readonly reservationMs: number;
  private readonly graceMs: number;
  private readonly prefix: string;
  private readonly redis: RedisConnection;
  /** Recent answer time per endpoint (ms, moving average): how late a slot may free than promised. */
  private readonly answerMs = new Map<Endpoint, number>();

  constructor(redis: RedisConnection, options: RateLimiterOptions) {
    validateRateLimiterOptions(options);
    this.redis = redis;
    this.prefix = options.prefix;
    this.windows = options.windows.map((w) => ({ limit: w.limit, windowMs: w.windowMs }));
    this.windowArgs = windowArguments(this.windows, options.campaignShare);
    this.horizonMs = Math.max(...this.windows.map((w) => w.windowMs));
    this.reservationMs = options.reservationMs ?? DEFAULT_RESERVATION_MS;
    this.graceMs = promiseGraceMs(this.windows);
    this.take_ = defineScript(redis, "mdeRateLimiterTake", 5, TAKE_SCRIPT);
    this.claimTake_ = defineScript(redis, "mdeRateLimiterClaimTake", 6, CLAIM_TAKE_SCRIPT);
    this.settles = new SettleBatch(redis);
    this.pause_ = defineScript(redis, "mdeRateLimiterPause", 1, PAUSE_SCRIPT);
    this.status_ = defineScript(redis, "mdeRateLimiterStatus", 2, STATUS_SCRIPT);
  }

  /**
   * Admits one call that is about to leave (one Redis round trip, none when this job run's claim
   * already took it: takeClaiming), or says how long to wait before asking again.
   */
  async take(
    tenantId: string,
    endpoint: Endpoint,
    options: { campaign?: boolean } = {},
  ): Promise<TakeResult> {
    const base = this.base(tenantId, endpoint);
    const campaign = options.campaign === true;
    // Taken ahead with this run's claim (takeClaiming): no second round trip.
    const held = takeHeldAdmission(heldKey(base, campaign));
    if (held) return held;
    return (await this.admit(base, endpoint, campaign)) as TakeResult;
  }

  /**
   * `take` and a claim in one script: while another run holds the claim, says for how long (and takes
   * no budget); else admits the call and sets the claim, or refuses both. The admission is held for
   * the caller's job run (withJobAdmissions): its next `take` of this endpoint and class gets it at
   * once. Outside a job run, use `take`.
   */
  async takeClaiming(
    tenantId: string,
    endpoint: Endpoint,
    options: { campaign?: boolean },
    claim: ClaimArgs,
  ): Promise<{ ok: true } | Refusal | { heldMs: number }> {
    const base = this.base(tenantId, endpoint);
    const campaign = options.campaign === true;
    const reply = await this.admit(base, endpoint, campaign, claim);
    if ("heldMs" in reply || !reply.ok) return reply;
    holdAdmission(heldKey(base, campaign), reply);
    return { ok: true };
  }

  /** Lets go of a claim takeClaiming set, with this turn's settles (one command for all). */
  releaseClaim(claim: Pick<ClaimArgs, "key" | "owner">): Promise<void> {
    return this.settles.releaseClaim(claim.key, claim.owner);
  }

  /** Gives back an admission takeClaiming held for this run and no call used. */
  releaseHeld(tenantId: string, endpoint: Endpoint, options: { campaign?: boolean }): Promise<void> {
    return releaseHeldAdmission(heldKey(this.base(tenantId, endpoint), options.campaign === true));
  }

  /**
   * Admits one call that is about to leave (one Redis round trip), or says how long to wait before
   * asking again. A slot that frees within `nearMs` is waited for here, up to NEAR_TRIES times.
   */
  private async admit(
    base: string,
    endpoint: Endpoint,
    campaign: boolean,
    claim?: ClaimArgs,
  ): Promise<TakeResult | { heldMs: number }> {
    const near = nearMs(this.windows, this.answerMs.get(endpoint) ?? 0);
    // Told to come back this much before their slot frees, refused callers wait the rest here: the time
    // a delayed job takes to come back from Redis then leaves no slot idle.
    const early = Math.floor(near / 2);
    let held = "";
    for (let tries = 1; ; tries++) {
      const canWait = tries < NEAR_TRIES;
      const sentAt = performance.now();
      const keys = [
        `${base}:log`,
        `${base}:log:campaign`,
        `${base}:seq`,
        `${base}:pause`,
        `${base}:ticket:${campaign ? "campaign" : "urgent"}`,
      ];
      const args = [
        campaign ? 1 : 0,
        this.horizonMs,
        this.reservationMs,
        this.graceMs,
        early,
        near,
        canWait ? 1 : 0,
        held,
        ...this.windowArgs,
      ];
      const reply = claim
        ? await this.claimTake_(...keys, claim.key, ...args, claim.owner, claim.ms)
        : await this.take_(...keys, ...args);
      if (reply[0] === 2) return { heldMs: reply[1] };
      if (reply[0] === 1) return this.admission(base, endpoint, String(reply[2]), reply[1], sentAt);
      const waitMs = reply[1];
      const reason = reply[2] === 1 ? "paused" : "budget";
      if (waitMs > near || !canWait) return { ok: false, waitMs: Math.max(1, waitMs - early), reason };
      // The slot promised to this caller frees soon and is kept for it: it waits here.
      held = reply[3] ?? "";
      await sleep(waitMs);
    }
  }

  /** Pauses every caller of this tenant's endpoint for at least `ms` (e.g. Retry-After); never shortens. */
  async pause(tenantId: string, endpoint: Endpoint, ms: number): Promise<void> {
    const whole = Math.ceil(ms);
    if (!Number.isFinite(whole) || whole <= 0) return;
    await this.pause_(`${this.base(tenantId, endpoint)}:pause`, whole);
  }

  /** The remaining 429 pause of this tenant's endpoint, 0 when none: one cheap read. */
  async pausedForMs(tenantId: string, endpoint: Endpoint): Promise<number> {
    return Math.max(0, await this.redis.pttl(`${this.base(tenantId, endpoint)}:pause`));
  }

  /** Calls counted in each window right now (all classes, open ones included) and the remaining pause. */
  async status(tenantId: string, endpoint: Endpoint): Promise<RateLimiterStatus> {
    const base = this.base(tenantId, endpoint);
    const reply = await this.status_(
      `${base}:log`,
      `${base}:pause`,
      this.windows.length,
      ...this.windows.map((w) => w.windowMs),
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
   * Forgets the wake times promised to refused callers. Promises assume every refused caller comes back;
   * when waiting jobs are removed instead (a campaign aborted or drained), the next refused callers would
   * otherwise queue behind promises nobody holds, while budget sits idle.
   */
  async resetTickets(tenantId: string, endpoint: Endpoint): Promise<void> {
    const base = this.base(tenantId, endpoint);
    await this.redis.del(`${base}:ticket:urgent`, `${base}:ticket:campaign`);
  }

  /**
   * The handle of an admitted call. Its answer time is Redis's time at admission plus the time measured
   * here from sending the take to the answer, which can only overcount. A failed write leaves the call
   * open: it then holds its slot until its reservation ends, which only costs budget.
   */
  private admission(base: string, endpoint: Endpoint, member: string, admittedAt: number, sentAt: number) {
    let done = false;
    const write = (at: number | "") => {
      if (done) return Promise.resolve();
      done = true;
      return this.settles.add(base, member, at);
    };
    return {
      ok: true,
      settle: () => {
        const tookMs = performance.now() - sentAt;
        const before = this.answerMs.get(endpoint);
        this.answerMs.set(endpoint, before === undefined ? tookMs : 0.8 * before + 0.2 * tookMs);
        return write(admittedAt + Math.ceil(tookMs) + 1);
      },
      release: () => write(""),
    } satisfies Admission;
  }

  private base(tenantId: string, endpoint: Endpoint): string {
    if (tenantId.length === 0) throw new UsageError("rate limiter: tenant id must not be empty");
    return `${this.prefix}:rl:${tenantId}:${endpoint}`;
  }
}

/** Where a run keeps an admission taken ahead: per limiter keys, endpoint and class. */
function heldKey(base: string, campaign: boolean): string {
  return `${base}:${campaign ? "campaign" : "urgent"}`;
}
