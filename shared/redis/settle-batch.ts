/** The limiter's settling writes, gathered per turn of the event loop into one script call. */

import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";
import { SETTLE_SCRIPT } from "./rate-limiter-script.js";

interface Pending {
  keys: [string, string];
  args: [string, number | string];
  done: () => void;
}

/**
 * Answers arrive many per turn when a worker runs 50 jobs at once: their settles (and the slots given
 * back) go to Redis together, one command for all, at the end of the turn they came in. The answer's
 * time is fixed when it came, so writing it a moment later changes no window; until then the call
 * counts as open, which can only make another caller wait a moment longer, never admit one too many.
 */
export class SettleBatch {
  private readonly settle: LuaScript<number>;
  private pending: Pending[] = [];

  constructor(redis: RedisConnection) {
    this.settle = defineScript(redis, "mdeRateLimiterSettle", null, SETTLE_SCRIPT);
  }

  /** Records the call `member` of the limiter keys `base` as answered at `at` ("" gives it back). Never throws. */
  add(base: string, member: string, at: number | ""): Promise<void> {
    // A slot given back goes at once (with what waits): a caller told "not sent" may look right away.
    return this.enqueue([`${base}:log`, `${base}:log:campaign`], [member, at], at === "");
  }

  /** Lets go of the cancel claim `key` held by `owner`, with the settles of this turn. Never throws. */
  releaseClaim(key: string, owner: string): Promise<void> {
    return this.enqueue([key, key], [owner, "claim"], false);
  }

  private enqueue(keys: Pending["keys"], args: Pending["args"], now: boolean): Promise<void> {
    return new Promise((done) => {
      if (this.pending.length === 0 && !now) setImmediate(() => this.flush());
      this.pending.push({ keys, args, done });
      if (now) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const keys = batch.flatMap((p) => p.keys);
    const args = batch.flatMap((p) => p.args);
    // A failed write leaves its calls open: they hold their slots until their reservations end.
    const finished = () => {
      for (const p of batch) p.done();
    };
    this.settle(keys.length, ...keys, ...args).then(finished, finished);
  }
}
