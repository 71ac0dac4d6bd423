/** Claims in Redis that keep one cancel per action on the wire, whichever worker runs its job. */

import { randomUUID } from "node:crypto";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/**
 * One cancel in flight per action, across every worker. BullMQ is at least once: when a worker
 * loses its lock (Redis blip, stalled event loop) another may run the same job while the first
 * run's POST is still on the wire; the second run must wait for that answer, not cancel again.
 */
export class CancelClaims {
  private readonly release: LuaScript<number>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {
    this.release = defineScript(redis, "mdeCancelClaimRelease", 1, RELEASE);
  }

  /** Claims the action for `ms`; returns a release, or how long the current claim still holds. */
  async claim(
    tenantId: string,
    actionId: string,
    ms: number,
  ): Promise<{ release: () => Promise<void> } | { heldMs: number }> {
    const key = `${this.prefix}:cancel-claim:${tenantId}:${actionId}`;
    const owner = randomUUID();
    if ((await this.redis.set(key, owner, "PX", ms, "NX")) === "OK") {
      return { release: async () => void (await this.release(key, owner)) };
    }
    return { heldMs: Math.max(1, await this.redis.pttl(key)) };
  }
}
