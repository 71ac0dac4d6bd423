/**
 * The Lua scripts behind `RateLimiter`, kept as string constants so they load the same way from source
 * (tsx/vitest) and from the compiled `dist/shared/`. Every key a script touches arrives in KEYS (never
 * built inside Lua) and shares the caller's prefix, so a hash tag in the prefix keeps them in one slot.
 *
 * Time is Redis's own: `TIME` in milliseconds. A recorded call at `s` occupies a window of padded length
 * `P` while `s > now - P`, and leaves it at `s + P`.
 */

/**
 * take: admit one call or say how long to wait.
 *
 * KEYS[1] log of all admitted calls (zset, score = ms, member = "<ms>-<seq>")
 * KEYS[2] log of admitted campaign calls (same layout; a campaign call is recorded in both)
 * KEYS[3] sequence counter that keeps members unique within a millisecond
 * KEYS[4] pause (string with PX, set by `pause`)
 * KEYS[5] next-ticket time (ms) of the caller's class: urgent and campaign have their own key
 *
 * ARGV[1] 1 for a campaign call, 0 for an urgent one
 * ARGV[2] longest padded window (ms): trim horizon and idle expiry
 * ARGV[3] number of windows n, then per window 4 values:
 *         padded length (ms), limit, campaign cap, ticket spacing of the caller's class (ms)
 *
 * Returns { 1, 0, 0 } when admitted, or { 0, waitMs, paused (0/1) } when refused.
 */
export const TAKE_SCRIPT = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local campaign = ARGV[1] == "1"
local horizon = tonumber(ARGV[2])
local n = tonumber(ARGV[3])

local trim = string.format("%.0f", now - horizon)
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", trim)
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", trim)

-- Time until the log holds fewer than cap calls inside the padded window, 0 when it already does.
local function waitFor(key, padded, cap)
  local low = "(" .. string.format("%.0f", now - padded)
  local count = redis.call("ZCOUNT", key, low, "+inf")
  if count < cap then return 0 end
  -- the (count - cap + 1)-th oldest call in the window must leave before one more fits
  local entry = redis.call("ZRANGEBYSCORE", key, low, "+inf", "WITHSCORES", "LIMIT", count - cap, 1)
  local w = tonumber(entry[2]) + padded - now
  if w < 1 then w = 1 end
  return w
end

local wait = 0
local bindingSpacing = 0
local minSpacing = nil
for i = 0, n - 1 do
  local padded = tonumber(ARGV[4 + i * 4])
  local limit = tonumber(ARGV[5 + i * 4])
  local ccap = tonumber(ARGV[6 + i * 4])
  local spacing = tonumber(ARGV[7 + i * 4])
  local w = waitFor(KEYS[1], padded, limit)
  if campaign then
    local wc = waitFor(KEYS[2], padded, ccap)
    if wc > w then w = wc end
  end
  if w > 0 then
    if w > wait then wait = w end
    if spacing > bindingSpacing then bindingSpacing = spacing end
  end
  if minSpacing == nil or spacing < minSpacing then minSpacing = spacing end
end

local pausedFor = redis.call("PTTL", KEYS[4])
if pausedFor < 0 then pausedFor = 0 end
if pausedFor > wait then wait = pausedFor end

if wait == 0 then
  local seq = redis.call("INCR", KEYS[3])
  local member = string.format("%.0f-%d", now, seq)
  redis.call("ZADD", KEYS[1], string.format("%.0f", now), member)
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  if campaign then
    redis.call("ZADD", KEYS[2], string.format("%.0f", now), member)
    redis.call("PEXPIRE", KEYS[2], ARGV[2])
  end
  redis.call("PEXPIRE", KEYS[3], ARGV[2])
  return { 1, 0, 0 }
end

-- Refused: hand out the next ticket of this class so refused callers wake spread out, not all at once.
-- The spacing is that of the window(s) that refused; when only the pause refused, the fastest window's.
local spacing = bindingSpacing
if spacing == 0 then spacing = minSpacing end
local due = now + wait
local ticket = tonumber(redis.call("GET", KEYS[5]))
if ticket ~= nil and ticket > due then due = ticket end
local nextTicket = due + spacing
redis.call("SET", KEYS[5], string.format("%.0f", nextTicket), "PX", string.format("%.0f", nextTicket - now))
local paused = 0
if pausedFor > 0 then paused = 1 end
return { 0, due - now, paused }
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
 * ARGV[1] number of windows n, then the padded length (ms) of each.
 * Returns { pausedForMs, count in window 1, ..., count in window n }.
 */
export const STATUS_SCRIPT = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pausedFor = redis.call("PTTL", KEYS[2])
if pausedFor < 0 then pausedFor = 0 end
local out = { pausedFor }
for i = 1, tonumber(ARGV[1]) do
  local low = "(" .. string.format("%.0f", now - tonumber(ARGV[1 + i]))
  out[i + 1] = redis.call("ZCOUNT", KEYS[1], low, "+inf")
end
return out
`;
