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
 * Its Redis keys are listed in rate-limiter-keys.ts.
 */

import type { RateWindow } from "../config/durations.js";
import { sleep } from "../core/sleep.js";
import type { Endpoint } from "../defender/endpoints.js";
import type { RedisConnection } from "./connection.js";
import { type Admission, admissionHandle } from "./limiter-admission.js";
import { defineScript, type LuaScript } from "./lua-script.js";
import { limiterBase, takeKeys } from "./rate-limiter-keys.js";
import {
  DEFAULT_RESERVATION_MS,
  nearMs,
  promiseGraceMs,
  type RateLimiterOptions,
  validateRateLimiterOptions,
  windowArguments,
} from "./rate-limiter-options.js";
import { PAUSE_SCRIPT, STATUS_SCRIPT } from "./rate-limiter-script.js";
import { type RateLimiterStatus, readStatus } from "./rate-limiter-status.js";
import { CLAIM_TAKE_SCRIPT, TAKE_SCRIPT } from "./rate-limiter-take-script.js";
import { SettleBatch } from "./settle-batch.js";

// Exported from here before the options had a file of their own.
export { campaignCap, DEFAULT_CAMPAIGN_SHARE, type RateLimiterOptions } from "./rate-limiter-options.js";

export type Refusal = { ok: false; waitMs: number; reason: "budget" | "paused" };
export type TakeResult = Admission | Refusal;

/** A claim taken with the budget of the call it guards (takeClaiming): its key, owner and lifetime. */
export interface ClaimArgs {
  key: string;
  owner: string;
  ms: number;
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
  /** Recent answer time per endpoint (ms, moving average): how late a slot may free than promised. */
  private readonly answerMs = new Map<Endpoint, number>();

  constructor(
    private readonly redis: RedisConnection,
    options: RateLimiterOptions,
  ) {
    validateRateLimiterOptions(options);
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

  /** Admits one call that is about to leave (one Redis round trip), or says how long to wait. */
  async take(
    tenantId: string,
    endpoint: Endpoint,
    options: { campaign?: boolean } = {},
  ): Promise<TakeResult> {
    const base = this.base(tenantId, endpoint);
    return (await this.admit(base, endpoint, options.campaign === true)) as TakeResult;
  }

  /**
   * `take` and a claim in one script: while another run holds the claim, says for how long (and takes
   * no budget); else admits the call and sets the claim, or refuses both. The admission goes with the
   * call it was taken for (CallOptions.admission), which then costs no second round trip.
   */
  takeClaiming(
    tenantId: string,
    endpoint: Endpoint,
    options: { campaign?: boolean },
    claim: ClaimArgs,
  ): Promise<TakeResult | { heldMs: number }> {
    return this.admit(this.base(tenantId, endpoint), endpoint, options.campaign === true, claim);
  }

  /** Lets go of a claim takeClaiming set, with this turn's settles (one command for all). */
  releaseClaim(claim: Pick<ClaimArgs, "key" | "owner">): Promise<void> {
    return this.settles.releaseClaim(claim.key, claim.owner);
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
      const keys = takeKeys(base, campaign);
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
      if (reply[0] === 1) {
        const times = { admittedAt: reply[1], sentAt };
        return admissionHandle(this.settles, base, String(reply[2]), times, (tookMs) => {
          const before = this.answerMs.get(endpoint);
          this.answerMs.set(endpoint, before === undefined ? tookMs : 0.8 * before + 0.2 * tookMs);
        });
      }
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
  status(tenantId: string, endpoint: Endpoint): Promise<RateLimiterStatus> {
    return readStatus(this.status_, this.base(tenantId, endpoint), this.windows);
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

  private base(tenantId: string, endpoint: Endpoint): string {
    return limiterBase(this.prefix, tenantId, endpoint);
  }
}
