/** The Lua of CampaignStore: every count of a campaign changes inside one of these. */

/**
 * Finished = every action has its outcome and no producer is still adding jobs (`adding`, set by
 * create and each addActions, cleared by seal): without that flag the first slice of a large
 * campaign could finish before the next slice is added. Answers the callback URL ("" for none).
 */
const FINISHED = `
local function finished(record)
  local h = redis.call("HMGET", record, "done", "total", "adding", "callbackUrl")
  if h[3] or tonumber(h[1] or 0) < tonumber(h[2] or 0) then return false end
  return h[4] or ""
end
`;

/**
 * Keeps the latest outcome per action, so a replay of the failed ones moves them from `failed`
 * back to waiting and then to their new outcome, and every count stays true. Idempotent per job:
 * a result published twice (after a crash) is counted once.
 */
export const RECORD_SCRIPT = `${FINISHED}
-- KEYS: record, outcomes (action -> outcome), jobs (finished job ids), failed (action ids)
-- ARGV: jobId, actionId, outcome, ttlMs
-- Returns finished(): a job recorded twice answers again, so a publisher that failed right after
-- this call still records the campaign's callback when it publishes again.
if redis.call("EXISTS", KEYS[1]) == 0 then return false end
if redis.call("SADD", KEYS[3], ARGV[1]) == 1 then
  local old = redis.call("HGET", KEYS[2], ARGV[2])
  if old and old ~= "" then redis.call("HINCRBY", KEYS[1], "n:" .. old, -1) else redis.call("HINCRBY", KEYS[1], "done", 1) end
  redis.call("HSET", KEYS[2], ARGV[2], ARGV[3])
  redis.call("HINCRBY", KEYS[1], "n:" .. ARGV[3], 1)
  if ARGV[3] == "failed" then redis.call("SADD", KEYS[4], ARGV[2]) else redis.call("SREM", KEYS[4], ARGV[2]) end
  for i = 1, 4 do redis.call("PEXPIRE", KEYS[i], ARGV[4]) end
end
return finished(KEYS[1])
`;

/** The producer has added every job: from now on the campaign can finish (it may have already). */
export const SEAL_SCRIPT = `${FINISHED}
-- KEYS: record
if redis.call("EXISTS", KEYS[1]) == 0 then return false end
redis.call("HDEL", KEYS[1], "adding")
return finished(KEYS[1])
`;

/**
 * Registers the campaign's callback URL. In one script with finished(), so a registration racing
 * the last job's record is seen by one side or the other (both record idempotently).
 */
export const SET_CALLBACK_SCRIPT = `${FINISHED}
-- KEYS: record; ARGV: url. Returns -1 for an unknown campaign, 0 while it runs, the URL once finished.
if redis.call("EXISTS", KEYS[1]) == 0 then return -1 end
redis.call("HSET", KEYS[1], "callbackUrl", ARGV[1])
return finished(KEYS[1]) or 0
`;

/** Puts actions into a campaign: new ones raise the total, finished ones (a replay) wait again. */
export const ADD_SCRIPT = `
-- KEYS: record, outcomes, jobs, failed; ARGV: ttlMs, actionId...
local added = 0
redis.call("HSET", KEYS[1], "adding", 1)
for i = 2, #ARGV do
  local old = redis.call("HGET", KEYS[2], ARGV[i])
  if not old then
    redis.call("HINCRBY", KEYS[1], "total", 1)
    added = added + 1
  elseif old ~= "" then
    redis.call("HINCRBY", KEYS[1], "n:" .. old, -1)
    redis.call("HINCRBY", KEYS[1], "done", -1)
    redis.call("SREM", KEYS[4], ARGV[i])
    added = added + 1
  end
  redis.call("HSET", KEYS[2], ARGV[i], "")
end
for i = 1, 4 do redis.call("PEXPIRE", KEYS[i], ARGV[1]) end
return added
`;

/** Takes back actions that got no job after all (another job already had them in hand). */
export const REMOVE_SCRIPT = `
-- KEYS: record, outcomes; ARGV: actionId...
local removed = 0
for i = 1, #ARGV do
  if redis.call("HGET", KEYS[2], ARGV[i]) == "" then
    redis.call("HDEL", KEYS[2], ARGV[i])
    redis.call("HINCRBY", KEYS[1], "total", -1)
    removed = removed + 1
  end
end
return removed
`;
