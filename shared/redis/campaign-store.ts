/** Campaign records in Redis: the totals and each action's latest outcome, kept true by Lua scripts. */

import type { CancelResult, Outcome } from "../contract/cancel-result.js";
import { OUTCOMES } from "../contract/cancel-result.js";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

/** A campaign as `--wait`, `results --campaign`, `status` and replays see it, from any machine. */
export interface CampaignRecord {
  id: string;
  createdAt: string;
  comment: string;
  source: string;
  priority: number;
  /** The tenant its actions belong to (absent on records written before it was kept). */
  tenantId?: string;
  /** Distinct actions this campaign put a job in for. */
  total: number;
  /** Actions whose latest job has finished. */
  done: number;
  counts: Record<Outcome, number>;
}

/**
 * Keeps the latest outcome per action, so a replay of the failed ones moves them from `failed`
 * back to waiting and then to their new outcome, and every count stays true. Idempotent per job:
 * a result published twice (after a crash) is counted once.
 */
const RECORD_SCRIPT = `
-- KEYS: record, outcomes (action -> outcome), jobs (finished job ids), failed (action ids)
-- ARGV: jobId, actionId, outcome, ttlMs
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
if redis.call("SADD", KEYS[3], ARGV[1]) == 0 then return 0 end
local old = redis.call("HGET", KEYS[2], ARGV[2])
if old and old ~= "" then redis.call("HINCRBY", KEYS[1], "n:" .. old, -1) else redis.call("HINCRBY", KEYS[1], "done", 1) end
redis.call("HSET", KEYS[2], ARGV[2], ARGV[3])
redis.call("HINCRBY", KEYS[1], "n:" .. ARGV[3], 1)
if ARGV[3] == "failed" then redis.call("SADD", KEYS[4], ARGV[2]) else redis.call("SREM", KEYS[4], ARGV[2]) end
for i = 1, 4 do redis.call("PEXPIRE", KEYS[i], ARGV[4]) end
return 1
`;

/** Puts actions into a campaign: new ones raise the total, finished ones (a replay) wait again. */
const ADD_SCRIPT = `
-- KEYS: record, outcomes, jobs, failed; ARGV: ttlMs, actionId...
local added = 0
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
const REMOVE_SCRIPT = `
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

export class CampaignStore {
  private readonly recordScript: LuaScript<number>;
  private readonly addScript: LuaScript<number>;
  private readonly removeScript: LuaScript<number>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly retentionMs: number,
  ) {
    this.recordScript = defineScript(redis, "mdeCampaignRecord", 4, RECORD_SCRIPT);
    this.addScript = defineScript(redis, "mdeCampaignAdd", 4, ADD_SCRIPT);
    this.removeScript = defineScript(redis, "mdeCampaignRemove", 2, REMOVE_SCRIPT);
  }

  /** Creates the record; false when a campaign of that id already exists. */
  async create(
    id: string,
    fields: { comment: string; source: string; priority: number; tenantId?: string },
  ): Promise<boolean> {
    const key = this.keys(id)[0];
    const created = await this.redis.hsetnx(key, "createdAt", new Date().toISOString());
    if (created === 0) return false;
    await this.redis
      .multi()
      .hset(key, {
        id,
        comment: fields.comment,
        source: fields.source,
        priority: fields.priority,
        ...(fields.tenantId ? { tenantId: fields.tenantId } : {}),
        total: 0,
        done: 0,
      })
      .pexpire(key, this.retentionMs)
      .zadd(this.indexKey(), Date.now(), id)
      .pexpire(this.indexKey(), this.retentionMs)
      .exec();
    return true;
  }

  /** Adds actions about to get a job (new ones, or finished ones again for a replay); returns how many. */
  async addActions(id: string, actionIds: string[]): Promise<number> {
    let added = 0;
    // In slices: one script call must not hold Redis for long, whatever the campaign's size.
    for (let i = 0; i < actionIds.length; i += 1000) {
      added += await this.addScript(...this.keys(id), this.retentionMs, ...actionIds.slice(i, i + 1000));
    }
    return added;
  }

  async removeActions(id: string, actionIds: string[]): Promise<void> {
    const [record, outcomes] = this.keys(id);
    for (let i = 0; i < actionIds.length; i += 1000)
      await this.removeScript(record, outcomes, ...actionIds.slice(i, i + 1000));
  }

  /** Records a finished job of the campaign; a second call for the same job changes nothing. */
  async record(result: CancelResult): Promise<void> {
    if (!result.campaignId || !result.machineActionId) return;
    await this.recordScript(
      ...this.keys(result.campaignId),
      result.jobId,
      result.machineActionId,
      result.outcome,
      this.retentionMs,
    );
  }

  async get(id: string): Promise<CampaignRecord | undefined> {
    const h = await this.redis.hgetall(this.keys(id)[0]);
    if (!h.createdAt) return undefined;
    const counts = Object.fromEntries(OUTCOMES.map((o) => [o, Number(h[`n:${o}`] ?? 0)])) as Record<
      Outcome,
      number
    >;
    return {
      id,
      createdAt: h.createdAt,
      comment: h.comment ?? "",
      source: h.source ?? "",
      priority: Number(h.priority ?? 0),
      ...(h.tenantId ? { tenantId: h.tenantId } : {}),
      total: Number(h.total ?? 0),
      done: Number(h.done ?? 0),
      counts,
    };
  }

  /**
   * One page of the ids of the campaign's finished jobs (SSCAN): `next` is null after the last
   * page. A page may repeat a job of an earlier one (as a rehash can), never skip one.
   */
  async finishedJobs(
    id: string,
    cursor: string,
    count: number,
  ): Promise<{ jobIds: string[]; next: string | null }> {
    const [next, jobIds] = await this.redis.sscan(this.keys(id)[2], cursor, "COUNT", count);
    return { jobIds, next: next === "0" ? null : next };
  }

  async failedActions(id: string): Promise<string[]> {
    return this.redis.smembers(this.keys(id)[3]);
  }

  /** Campaigns created within the retention, newest first. */
  async list(limit = 50): Promise<CampaignRecord[]> {
    const ids = await this.redis.zrevrange(this.indexKey(), 0, limit - 1);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records.filter((r): r is CampaignRecord => r !== undefined);
  }

  private keys(id: string): [string, string, string, string] {
    const base = `${this.prefix}:campaign:${id}`;
    return [base, `${base}:outcomes`, `${base}:jobs`, `${base}:failed`];
  }

  private indexKey(): string {
    return `${this.prefix}:campaigns`;
  }
}
