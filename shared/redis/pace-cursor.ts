/**
 * Each tenant's campaign pace cursor: the Redis time (ms) at which that tenant's campaign budget
 * is next free, as far as the campaign jobs already added have spent it. A campaign start reserves
 * its chunk's slots atomically, so two producers starting campaigns for one tenant at once queue
 * their jobs one after the other instead of both at once. Timed by Redis's clock (`TIME`), so
 * producers' clock skew does not matter. Key: `${prefix}:pace:${tenantId}`; it expires one hour
 * after the last slot it promised, so an idle tenant leaves nothing behind.
 */

import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

// KEYS[1] cursor; ARGV[1] slots, ARGV[2] ms per slot (may be fractional).
// Returns how many ms from now the first reserved slot starts (0 when the budget is free now).
const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cursor = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local start = math.max(cursor, now)
local after = start + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.3f', after), 'PX', math.ceil(after - now) + 3600000)
return math.floor(start - now)
`;

// KEYS[1] cursor; ARGV[1] slots, ARGV[2] ms per slot. Gives back the slots of jobs that will not
// run (an aborted campaign), never moving the cursor before now. Returns the ms still reserved.
const GIVE_BACK_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cursor = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if cursor <= now then return 0 end
local after = math.max(now, cursor - tonumber(ARGV[1]) * tonumber(ARGV[2]))
if after <= now then redis.call('DEL', KEYS[1]) return 0 end
redis.call('SET', KEYS[1], string.format('%.3f', after), 'PX', math.ceil(after - now) + 3600000)
return math.floor(after - now)
`;

export class PaceCursor {
  private readonly reserve_: LuaScript<number>;
  private readonly giveBack_: LuaScript<number>;

  constructor(
    redis: RedisConnection,
    private readonly prefix: string,
  ) {
    this.reserve_ = defineScript(redis, "mdePaceReserve", 1, RESERVE_SCRIPT);
    this.giveBack_ = defineScript(redis, "mdePaceGiveBack", 1, GIVE_BACK_SCRIPT);
  }

  /** Reserves `slots` consecutive slots of `slotMs`; resolves to when the first starts, in ms from now. */
  reserve(tenantId: string, slots: number, slotMs: number): Promise<number> {
    return this.reserve_(this.key(tenantId), slots, slotMs);
  }

  /** Frees the last `slots` slots reserved (jobs removed before they ran); resolves to the ms still reserved. */
  giveBack(tenantId: string, slots: number, slotMs: number): Promise<number> {
    return this.giveBack_(this.key(tenantId), slots, slotMs);
  }

  private key(tenantId: string): string {
    return `${this.prefix}:pace:${tenantId}`;
  }
}
