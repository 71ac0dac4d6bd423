/**
 * A read-only look at the campaign calls the limiter counts (rate-limiter.ts), for the campaign ETA:
 * how long ago each call in a tenant's windows was answered, by Redis's clock. Keys follow the
 * limiter's layout, `${prefix}:rl:${tenantId}:${endpoint}:log:campaign` (scores: the answer time, or
 * admission + reservation while a call is open); test/integration/rate-limiter-log.test.ts keeps the two
 * in step.
 */
import { ENDPOINTS, type Endpoint } from "../defender/endpoints.js";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

/**
 * KEYS: the logs to read. ARGV[1]: the longest window (ms). Returns, per key, one flat list of ages
 * (ms since the answer; 0 for an open call) of the calls still inside it, oldest first.
 */
const AGES_SCRIPT = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local scores = redis.call("ZRANGEBYSCORE", key, "(" .. string.format("%.0f", now - tonumber(ARGV[1])), "+inf", "WITHSCORES")
  local ages = {}
  for j = 2, #scores, 2 do ages[#ages + 1] = math.max(0, now - tonumber(scores[j])) end
  out[i] = ages
end
return out
`;

export type CallAges = Record<Endpoint, number[]>;

export class RateLimiterLog {
  private readonly ages_: LuaScript<number[][]>;

  constructor(
    redis: RedisConnection,
    /** The limiter's prefix (keyPrefix(config)). */
    private readonly prefix: string,
  ) {
    this.ages_ = defineScript(redis, "mdeRateLimiterAges", ENDPOINTS.length, AGES_SCRIPT);
  }

  /** Ages of the tenant's campaign calls inside `longestWindowMs`, per endpoint: one round trip. */
  async campaignCallAges(tenantId: string, longestWindowMs: number): Promise<CallAges> {
    const keys = ENDPOINTS.map((e) => `${this.prefix}:rl:${tenantId}:${e}:log:campaign`);
    const reply = await this.ages_(...keys, longestWindowMs);
    return Object.fromEntries(ENDPOINTS.map((e, i) => [e, (reply[i] ?? []).map(Number)])) as CallAges;
  }
}
