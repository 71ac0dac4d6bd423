/** Claims in Redis that keep one cancel per action on the wire, whichever worker runs its job. */

import { randomUUID } from "node:crypto";
import { BudgetWaitError } from "../core/errors.js";
import type { RedisConnection } from "./connection.js";
import type { Admission } from "./limiter-admission.js";
import { defineScript, type LuaScript } from "./lua-script.js";
import type { RateLimiter } from "./rate-limiter.js";

/** The budget of the cancel a claim guards: taken in the same script as the claim (one round trip). */
export interface ClaimBudget {
  limiter: Pick<RateLimiter, "takeClaiming" | "releaseClaim">;
  campaign: boolean;
}

const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;
const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`;

/**
 * One cancel in flight per action, across every worker. BullMQ is at least once: when a worker
 * loses its lock (Redis blip, stalled event loop) another may run the same job while the first
 * run's POST is still on the wire; the second run must wait for that answer, not cancel again.
 *
 * A claim lasts `ms` and is renewed every third of that while its holder lives, so it holds
 * however long the cancel takes (a 401, a slow token refresh, then the second POST); when the
 * holder dies it runs out `ms` after the last renewal.
 *
 * Given the cancel's budget, the claim, the budget and the 429 pause are one atomic script
 * (RateLimiter.takeClaiming): no budget is spent while the claim is held, no claim is set when the
 * budget refuses (that throws BudgetWaitError), and the claim hands the POST its `admission`.
 */
export class CancelClaims {
  private readonly release: LuaScript<number>;
  private readonly renew: LuaScript<number>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {
    this.release = defineScript(redis, "mdeCancelClaimRelease", 1, RELEASE);
    this.renew = defineScript(redis, "mdeCancelClaimRenew", 1, RENEW);
  }

  /** Claims the action for `ms`; returns a release, or how long the current claim still holds. */
  async claim(
    tenantId: string,
    actionId: string,
    ms: number,
    budget?: ClaimBudget,
  ): Promise<{ release: () => Promise<void>; admission?: Admission } | { heldMs: number }> {
    const key = `${this.prefix}:cancel-claim:${tenantId}:${actionId}`;
    const owner = randomUUID();
    if (budget) {
      const { limiter, campaign } = budget;
      const taken = await limiter.takeClaiming(tenantId, "cancel", { campaign }, { key, owner, ms });
      if ("heldMs" in taken) return taken;
      if (!taken.ok)
        throw new BudgetWaitError(`rate-limit budget of cancel spent for ${taken.waitMs} ms`, taken.waitMs);
      // Released with the POST's settle, in the limiter's next batch of writes.
      const held = this.held(key, owner, ms, () => limiter.releaseClaim({ key, owner }));
      return {
        admission: taken,
        release: async () => {
          // An admission no POST used (no token, say) goes back: nothing was sent. Once settled, a no-op.
          await taken.release();
          await held.release();
        },
      };
    }
    if ((await this.redis.set(key, owner, "PX", ms, "NX")) !== "OK")
      return { heldMs: Math.max(1, await this.redis.pttl(key)) };
    return this.held(key, owner, ms);
  }

  /** A claim this run holds: renewed until released. */
  private held(
    key: string,
    owner: string,
    ms: number,
    letGo: () => Promise<unknown> = () => this.release(key, owner),
  ): { release: () => Promise<void> } {
    // A failed renewal (Redis away for a moment) is tried again at the next tick.
    const renewal = setInterval(() => void this.renew(key, owner, ms).catch(() => 0), Math.ceil(ms / 3));
    renewal.unref();
    return {
      release: async () => {
        clearInterval(renewal);
        await letGo();
      },
    };
  }
}
