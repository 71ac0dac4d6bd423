/**
 * The take and claim-take scripts of `RateLimiter`: admission, promises to refused callers and waiting
 * in place. Apart from the small scripts (rate-limiter-script.ts) since this is most of the limiter's
 * Lua and the part read on its own; the time model is described there.
 */

import { CLOCK } from "./rate-limiter-script.js";

/** The body of `take` (after CLOCK), also run inside CLAIM_TAKE_SCRIPT. */
const TAKE_BODY = `local campaign = ARGV[1] == "1"
local horizon = tonumber(ARGV[2])
local reservation = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local dueBy = fmt(now + tonumber(ARGV[5]))
local near = tonumber(ARGV[6])
local canWait = ARGV[7] == "1"
local n = tonumber(ARGV[9])

redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", fmt(now - horizon))
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", fmt(now - horizon))
redis.call("ZREMRANGEBYSCORE", KEYS[5], "-inf", fmt(now - grace))

-- The caller's own promise, if it waited in place for it; the slots already free that are kept for the
-- other callers doing so (until they come, a timer's lag later); and the first due promise of a delayed
-- caller (most likely this caller's, if it has none).
local mine = nil
if ARGV[8] ~= "" and redis.call("ZSCORE", KEYS[5], ARGV[8]) then mine = ARGV[8] end
local kept = 0
local delayed = nil
local due = redis.call("ZRANGEBYSCORE", KEYS[5], "-inf", dueBy, "WITHSCORES")
for i = 1, #due, 2 do
  local m = due[i]
  if string.sub(m, 1, 1) == "h" then
    if m ~= mine and tonumber(due[i + 1]) <= now then kept = kept + 1 end
  elseif delayed == nil then
    delayed = m
  end
end

-- Time until the log holds fewer than cap calls inside the window, 0 when it already does. A settled
-- call leaves one window after its answer; an open one, at the earliest, one window after now. Wake
-- times use that earliest moment: a woken caller finds its slot free or about to free (then it waits
-- for it in place), and a slot never sits idle waiting for a caller woken too late.
local function waitFor(key, w, cap)
  local low = "(" .. fmt(now - w)
  local count = redis.call("ZCOUNT", key, low, "+inf")
  if count < cap then return 0 end
  if cap < 1 then return 1 end
  -- the (count - cap + 1)-th call in the window must leave before one more fits
  local e = redis.call("ZRANGEBYSCORE", key, low, "+inf", "WITHSCORES", "LIMIT", count - cap, 1)
  return math.max(1, math.min(tonumber(e[2]), now) + w - now)
end

-- When the window has room for one more call after the promised callers ahead took their slots: the
-- cap-th latest answer among settled calls, open calls, then those promises (in that order of time).
-- A new caller queues behind every promise; a woken one only behind the promises already due.
local function freeAfterPromises(key, w, cap, woken)
  local settled = redis.call("ZCOUNT", key, "-inf", fmt(now))
  local open = redis.call("ZCOUNT", key, "(" .. fmt(now), "+inf")
  local ahead
  if woken then ahead = redis.call("ZCOUNT", KEYS[5], "-inf", dueBy) else ahead = redis.call("ZCARD", KEYS[5]) end
  local r = settled + open + ahead - cap
  if r < 0 then return 0 end
  local at
  if r < settled then
    at = tonumber(redis.call("ZRANGEBYSCORE", key, "-inf", fmt(now), "WITHSCORES", "LIMIT", r, 1)[2])
  elseif r < settled + open then
    at = now
  else
    local p = redis.call("ZRANGE", KEYS[5], r - settled - open, r - settled - open, "WITHSCORES")
    at = math.max(tonumber(p[2]), now)
  end
  return at + w
end

local wait = 0
for i = 0, n - 1 do
  local w = tonumber(ARGV[10 + i * 3])
  wait = math.max(wait, waitFor(KEYS[1], w, tonumber(ARGV[11 + i * 3]) - kept))
  if campaign then wait = math.max(wait, waitFor(KEYS[2], w, tonumber(ARGV[12 + i * 3]) - kept)) end
end
local pausedFor = math.max(0, redis.call("PTTL", KEYS[4]))
wait = math.max(wait, pausedFor)
local ttl = horizon + reservation
-- A promise is fulfilled (or taken over) by an admission, or replaced by a new one on a refusal.
local own = mine or delayed
if own then redis.call("ZREM", KEYS[5], own) end

if wait == 0 then
  local member = fmt(now) .. "-" .. redis.call("INCR", KEYS[3])
  redis.call("ZADD", KEYS[1], fmt(now + reservation), member)
  redis.call("PEXPIRE", KEYS[1], ttl)
  if campaign then
    redis.call("ZADD", KEYS[2], fmt(now + reservation), member)
    redis.call("PEXPIRE", KEYS[2], ttl)
  end
  redis.call("PEXPIRE", KEYS[3], ttl)
  return { 1, now, member }
end

local paused = 0
if pausedFor > 0 then paused = 1 end
local woken = own ~= nil
local at = now + wait
if not woken then
  local last = redis.call("ZRANGE", KEYS[5], -1, -1, "WITHSCORES")
  if last[2] then at = math.max(at, tonumber(last[2])) end
end
for i = 0, n - 1 do
  local w = tonumber(ARGV[10 + i * 3])
  at = math.max(at, freeAfterPromises(KEYS[1], w, tonumber(ARGV[11 + i * 3]), woken))
  if campaign then at = math.max(at, freeAfterPromises(KEYS[2], w, tonumber(ARGV[12 + i * 3]), woken)) end
end
local kind = "p"
if canWait and at - now <= near then kind = "h" end
local promise = kind .. fmt(now) .. "-" .. redis.call("INCR", KEYS[3])
redis.call("ZADD", KEYS[5], fmt(at), promise)
local last = redis.call("ZRANGE", KEYS[5], -1, -1, "WITHSCORES")
redis.call("PEXPIRE", KEYS[5], fmt(tonumber(last[2]) - now + grace))
redis.call("PEXPIRE", KEYS[3], ttl)
return { 0, at - now, paused, promise }
`;

/**
 * take: admit one call (recording it as open) or say how long to wait.
 *
 * KEYS[1] log of all calls (zset, score as above, member = "<admission ms>-<seq>")
 * KEYS[2] log of campaign calls (same layout; a campaign call is recorded in both)
 * KEYS[3] sequence counter that keeps members unique within a millisecond
 * KEYS[4] pause (string with PX, set by `pause`)
 * KEYS[5] promises of the caller's class (zset, score = the time a refused caller's slot frees;
 *         member "h<ms>-<seq>" for a caller waiting for it in place, "p<ms>-<seq>" for one delayed)
 *
 * ARGV[1] 1 for a campaign call, 0 for an urgent one
 * ARGV[2] longest window (ms): trim horizon
 * ARGV[3] reservation (ms): how long an open call may still be answered
 * ARGV[4] grace (ms): how long a due promise waits for its caller
 * ARGV[5] early (ms): delayed callers are told to come back this much early; their promise is due then
 * ARGV[6] near (ms): a refused caller whose slot frees this soon waits for it in place...
 * ARGV[7] ...if it can (1, else 0)
 * ARGV[8] the promise this caller holds, waiting in place ("" if none)
 * ARGV[9] number of windows n, then per window 3 values: length (ms), limit, campaign cap
 *
 * Returns { 1, now, member } when admitted, or { 0, waitMs, paused (0/1), promise } when refused.
 *
 * Every refused caller gets a promise: the time at which, after the callers promised before it took
 * their slots, the window has room again (the cap-th latest answer among the log and those promises,
 * plus the window; an open call counted as answered now). So refused callers wake one per slot: a burst
 * of slots freeing together wakes as many callers together, and a backlog drains at the window's own
 * pace. A new caller queues behind every promise. A woken caller whose slot is not free yet keeps its
 * place: it queues only behind the callers due now. A slot promised to a caller waiting for it in place
 * is kept for it: no other caller takes it meanwhile.
 */
export const TAKE_SCRIPT = `${CLOCK}
${TAKE_BODY}`;

/**
 * claim-take: the per-action cancel claim and `take` in one atomic step, so a cancel costs one round
 * trip before it leaves. KEYS[1..5] and ARGV as `take`; KEYS[6] the action's claim; after the take's
 * arguments, the claim's owner token and its lifetime (ms).
 *
 * Returns { 2, heldMs } while another run holds the claim (no budget taken, no promise made), else
 * what `take` returns; an admission also sets the claim, a refusal leaves it unset.
 */
export const CLAIM_TAKE_SCRIPT = `${CLOCK}
local claimArg = 10 + 3 * tonumber(ARGV[9])
local held = redis.call("PTTL", KEYS[6])
if held ~= -2 then return { 2, math.max(1, held) } end
local function take()
${TAKE_BODY}
end
local reply = take()
if reply[1] == 1 then redis.call("SET", KEYS[6], ARGV[claimArg], "PX", ARGV[claimArg + 1]) end
return reply
`;
