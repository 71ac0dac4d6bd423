/**
 * The small Lua scripts behind `RateLimiter` (settle, pause, status) and the clock every script shares;
 * take and claim-take, most of the Lua, are in rate-limiter-take-script.ts. Kept as string constants
 * so they load the same way from source (tsx/vitest) and from the compiled `dist/shared/`. Every key a
 * script touches arrives in KEYS (never built inside Lua) and shares the caller's prefix, so a hash tag
 * in the prefix keeps them in one slot.
 *
 * Time is Redis's own: `TIME` in milliseconds. A call counts from its admission until its answer, since
 * Microsoft counted it somewhere in between: its log score is the time its answer came (once settled) or
 * could still come (admission + reservation, until then), and it occupies a window of length W while
 * score > now - W. So it leaves the window at answer + W, and an unanswered one at admission +
 * reservation + W.
 */

/** Redis's clock in ms, shared by the scripts. */
export const CLOCK = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function fmt(x) return string.format("%.0f", x) end
`;

/**
 * settle: each call's answer came by its time (Redis ms): it now leaves its windows one window after
 * that, or after now if sooner (the answer came before this script ran; a settled score is never in
 * the future). Never later than its reservation said. An empty time gives the slot back: nothing was
 * sent. Any number of calls at once (SettleBatch): per call, KEYS its log of all calls and its log of
 * campaign calls, ARGV its member and its time. A time of "claim" lets go of a cancel claim that rode
 * along (the POST's settle and its claim's release leave together): KEYS the claim twice, ARGV its owner.
 */
export const SETTLE_SCRIPT = `${CLOCK}
for i = 1, #ARGV / 2 do
  local all, campaign = KEYS[2 * i - 1], KEYS[2 * i]
  local member, at = ARGV[2 * i - 1], ARGV[2 * i]
  if at == "claim" then
    -- a cancel claim its owner (member) lets go of: KEYS the claim, twice
    if redis.call("GET", all) == member then redis.call("DEL", all) end
  elseif at == "" then
    redis.call("ZREM", all, member)
    redis.call("ZREM", campaign, member)
  else
    at = fmt(math.min(tonumber(at), now))
    redis.call("ZADD", all, "XX", "LT", at, member)
    redis.call("ZADD", campaign, "XX", "LT", at, member)
  end
end
return 1
`;

/**
 * pause: make sure the pause lasts at least ARGV[1] ms from now; never shortens a longer one.
 * KEYS[1] pause key. Returns the pause's remaining ms after the call.
 */
export const PAUSE_SCRIPT = `
local ms = tonumber(ARGV[1])
local current = redis.call("PTTL", KEYS[1])
if current == -1 then current = 0 end
if ms > current then
  redis.call("SET", KEYS[1], "1", "PX", ARGV[1])
  return ms
end
return current
`;

/**
 * status: read-only view. KEYS[1] log of all calls, KEYS[2] pause.
 * ARGV[1] number of windows n, then the length (ms) of each.
 * Returns { pausedForMs, calls counting in window 1 (open ones included), ..., in window n }.
 */
export const STATUS_SCRIPT = `${CLOCK}
local pausedFor = redis.call("PTTL", KEYS[2])
if pausedFor < 0 then pausedFor = 0 end
local out = { pausedFor }
for i = 1, tonumber(ARGV[1]) do
  local low = "(" .. fmt(now - tonumber(ARGV[1 + i]))
  out[i + 1] = redis.call("ZCOUNT", KEYS[1], low, "+inf")
end
return out
`;
