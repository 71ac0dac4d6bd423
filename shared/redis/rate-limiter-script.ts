/**
 * The Lua scripts behind `RateLimiter`, kept as string constants so they load the same way from source
 * (tsx/vitest) and from the compiled `dist/shared/`. Every key a script touches arrives in KEYS (never
 * built inside Lua) and shares the caller's prefix, so a hash tag in the prefix keeps them in one slot.
 *
 * Time is Redis's own: `TIME` in milliseconds. A call counts from its admission until its answer, since
 * Microsoft counted it somewhere in between: its log score is the time its answer came (once settled) or
 * could still come (admission + reservation, until then), and it occupies a window of length W while
 * score > now - W. So it leaves the window at answer + W, and an unanswered one at admission +
 * reservation + W.
 */

/** Redis's clock, and the earliest time a logged call was or can be answered. */
const CLOCK_AND_ANSWER = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function fmt(x) return string.format("%.0f", x) end
-- A settled call (score <= now) was answered at its score; an open one is answered no earlier than now.
-- Wake times use that earliest moment: a woken caller finds its slot free, or about to free (then it
-- waits for it in place), but a slot never sits idle waiting for a caller woken too late.
local function answeredAt(score)
  return math.min(score, now)
end
`;

/**
 * take: admit one call (recording it as open) or say how long to wait.
 *
 * KEYS[1] log of all calls (zset, score as above, member = "<admission ms>-<seq>")
 * KEYS[2] log of campaign calls (same layout; a campaign call is recorded in both)
 * KEYS[3] sequence counter that keeps members unique within a millisecond
 * KEYS[4] pause (string with PX, set by `pause`)
 * KEYS[5] promises of the caller's class (zset, score = the wake time handed to a refused caller)
 *
 * ARGV[1] 1 for a campaign call, 0 for an urgent one
 * ARGV[2] longest window (ms): trim horizon
 * ARGV[3] reservation (ms): how long an open call may still be answered
 * ARGV[4] grace (ms): how long a due promise waits for its caller
 * ARGV[5] number of windows n, then per window 3 values: length (ms), limit, campaign cap
 *
 * Returns { 1, now, member } when admitted, or { 0, waitMs, paused (0/1) } when refused.
 *
 * Every refused caller gets a promise: a wake time at which, after the callers promised before it took
 * their slots, the window has room again (the cap-th latest expected answer among the log and those
 * promises, plus the window). So refused callers wake one per slot: a burst of slots freeing together
 * wakes as many callers together, and a backlog drains at the window's own pace. A new caller queues
 * behind every promise. A woken caller whose slot is not free yet (its call answered a few ms later than
 * expected) keeps its place: it queues only behind the callers due now.
 */
export const TAKE_SCRIPT = `${CLOCK_AND_ANSWER}
local campaign = ARGV[1] == "1"
local horizon = tonumber(ARGV[2])
local reservation = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local n = tonumber(ARGV[5])

redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", fmt(now - horizon))
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", fmt(now - horizon))
redis.call("ZREMRANGEBYSCORE", KEYS[5], "-inf", fmt(now - grace))

-- Time until the log holds fewer than cap calls inside the window, 0 when it already does.
local function waitFor(key, w, cap)
  local low = "(" .. fmt(now - w)
  local count = redis.call("ZCOUNT", key, low, "+inf")
  if count < cap then return 0 end
  -- the (count - cap + 1)-th call in the window must leave before one more fits
  local e = redis.call("ZRANGEBYSCORE", key, low, "+inf", "WITHSCORES", "LIMIT", count - cap, 1)
  return math.max(1, answeredAt(tonumber(e[2])) + w - now)
end

-- When the window has room for one more call after the promised callers ahead took their slots: the
-- cap-th latest expected answer among settled calls, open calls, then those promises (in that order of
-- time). A new caller queues behind every promise; a woken one only behind the promises already due.
local function freeAfterPromises(key, w, cap, woken)
  local settled = redis.call("ZCOUNT", key, "-inf", fmt(now))
  local open = redis.call("ZCOUNT", key, "(" .. fmt(now), "+inf")
  local ahead
  if woken then ahead = redis.call("ZCOUNT", KEYS[5], "-inf", fmt(now)) else ahead = redis.call("ZCARD", KEYS[5]) end
  local r = settled + open + ahead - cap
  if r < 0 then return 0 end
  local at
  if r < settled then
    at = tonumber(redis.call("ZRANGEBYSCORE", key, "-inf", fmt(now), "WITHSCORES", "LIMIT", r, 1)[2])
  elseif r < settled + open then
    local e = redis.call("ZRANGEBYSCORE", key, "(" .. fmt(now), "+inf", "WITHSCORES", "LIMIT", r - settled, 1)
    at = answeredAt(tonumber(e[2]))
  else
    local p = redis.call("ZRANGE", KEYS[5], r - settled - open, r - settled - open, "WITHSCORES")
    at = math.max(tonumber(p[2]), now)
  end
  return at + w
end

local wait = 0
for i = 0, n - 1 do
  local w = tonumber(ARGV[6 + i * 3])
  wait = math.max(wait, waitFor(KEYS[1], w, tonumber(ARGV[7 + i * 3])))
  if campaign then wait = math.max(wait, waitFor(KEYS[2], w, tonumber(ARGV[8 + i * 3]))) end
end
local pausedFor = math.max(0, redis.call("PTTL", KEYS[4]))
wait = math.max(wait, pausedFor)
local ttl = horizon + reservation

if wait == 0 then
  local member = fmt(now) .. "-" .. redis.call("INCR", KEYS[3])
  redis.call("ZADD", KEYS[1], fmt(now + reservation), member)
  redis.call("PEXPIRE", KEYS[1], ttl)
  if campaign then
    redis.call("ZADD", KEYS[2], fmt(now + reservation), member)
    redis.call("PEXPIRE", KEYS[2], ttl)
  end
  redis.call("PEXPIRE", KEYS[3], ttl)
  -- A promised caller came (or one took its place): its promise is kept.
  local due = redis.call("ZRANGEBYSCORE", KEYS[5], "-inf", fmt(now), "LIMIT", 0, 1)
  if due[1] then redis.call("ZREM", KEYS[5], due[1]) end
  return { 1, now, member }
end

local paused = 0
if pausedFor > 0 then paused = 1 end
-- A due promise is most likely this very caller's: it was woken a little early (its slot's call answered
-- later than expected) and keeps its place among the callers due now, not the back of the queue.
local due = redis.call("ZRANGEBYSCORE", KEYS[5], "-inf", fmt(now), "LIMIT", 0, 1)
local woken = due[1] ~= nil
if woken then redis.call("ZREM", KEYS[5], due[1]) end
local at = now + wait
if not woken then
  local last = redis.call("ZRANGE", KEYS[5], -1, -1, "WITHSCORES")
  if last[2] then at = math.max(at, tonumber(last[2])) end
end
for i = 0, n - 1 do
  local w = tonumber(ARGV[6 + i * 3])
  at = math.max(at, freeAfterPromises(KEYS[1], w, tonumber(ARGV[7 + i * 3]), woken))
  if campaign then at = math.max(at, freeAfterPromises(KEYS[2], w, tonumber(ARGV[8 + i * 3]), woken)) end
end
redis.call("ZADD", KEYS[5], fmt(at), fmt(now) .. "-" .. redis.call("INCR", KEYS[3]))
local last = redis.call("ZRANGE", KEYS[5], -1, -1, "WITHSCORES")
redis.call("PEXPIRE", KEYS[5], fmt(math.max(at, tonumber(last[2])) - now + grace))
redis.call("PEXPIRE", KEYS[3], ttl)
return { 0, at - now, paused }
`;

/**
 * settle: a call's answer came by ARGV[2] (Redis ms): it now leaves its windows one window after that,
 * or after now if sooner (the answer came before this script ran; a settled score is never in the
 * future). Never later than its reservation said. ARGV[2] = "" gives the slot back: nothing was sent.
 * KEYS[1] log of all calls, KEYS[2] log of campaign calls; ARGV[1] the call's member.
 */
export const SETTLE_SCRIPT = `
if ARGV[2] == "" then
  redis.call("ZREM", KEYS[1], ARGV[1])
  redis.call("ZREM", KEYS[2], ARGV[1])
  return 1
end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = string.format("%.0f", math.min(tonumber(ARGV[2]), now))
redis.call("ZADD", KEYS[1], "XX", "LT", at, ARGV[1])
redis.call("ZADD", KEYS[2], "XX", "LT", at, ARGV[1])
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
