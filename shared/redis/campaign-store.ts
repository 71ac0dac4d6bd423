/** Campaign records in Redis: the totals and each action's latest outcome, kept true by Lua scripts. */

import type { CancelResult, Outcome } from "../contract/cancel-result.js";
import { OUTCOMES } from "../contract/cancel-result.js";
import {
  ADD_SCRIPT,
  RECORD_SCRIPT,
  REMOVE_SCRIPT,
  SEAL_SCRIPT,
  SET_CALLBACK_SCRIPT,
} from "./campaign-scripts.js";
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
  /**
   * Actions the campaign's state check found terminal before enqueuing (noteSeenTerminal): their jobs
   * finish with no call. Absent when nothing was noted.
   */
  seenTerminal?: number;
  counts: Record<Outcome, number>;
}

/** A campaign whose every action has its outcome, with the callback its starter registered. */
export interface FinishedCampaign {
  summary: CampaignRecord;
  callbackUrl?: string;
}

export class CampaignStore {
  private readonly recordScript: LuaScript<string | null>;
  private readonly sealScript: LuaScript<string | null>;
  private readonly setCallbackScript: LuaScript<string | number>;
  private readonly addScript: LuaScript<number>;
  private readonly removeScript: LuaScript<number>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly retentionMs: number,
  ) {
    this.recordScript = defineScript(redis, "mdeCampaignRecord", 4, RECORD_SCRIPT);
    this.sealScript = defineScript(redis, "mdeCampaignSeal", 1, SEAL_SCRIPT);
    this.setCallbackScript = defineScript(redis, "mdeCampaignSetCallback", 1, SET_CALLBACK_SCRIPT);
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
        // Not finished while its jobs are being added: seal() clears it.
        adding: 1,
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

  /**
   * Records a finished job of the campaign; a second call for the same job changes nothing.
   * Answers the campaign when it has finished (again for a job recorded twice).
   */
  async record(result: CancelResult): Promise<FinishedCampaign | undefined> {
    if (!result.campaignId || !result.machineActionId) return undefined;
    const reply = await this.recordScript(
      ...this.keys(result.campaignId),
      result.jobId,
      result.machineActionId,
      result.outcome,
      this.retentionMs,
    );
    return this.finished(result.campaignId, reply);
  }

  /** Every job has been added: answers the campaign when its jobs have all finished already. */
  async seal(id: string): Promise<FinishedCampaign | undefined> {
    return this.finished(id, await this.sealScript(this.keys(id)[0]));
  }

  /**
   * Keeps `url` (never shown by get()) for `campaign.finished`. Answers whether the campaign is
   * known, and the campaign when it has finished already: its callback is then the caller's to record.
   */
  async setCallback(id: string, url: string): Promise<{ found: boolean; finished?: FinishedCampaign }> {
    const reply = await this.setCallbackScript(this.keys(id)[0], url);
    if (reply === -1) return { found: false };
    const finished = reply === 0 ? undefined : await this.finished(id, String(reply));
    return { found: true, ...(finished ? { finished } : {}) };
  }

  private async finished(id: string, reply: string | null): Promise<FinishedCampaign | undefined> {
    if (reply === null) return undefined;
    const summary = await this.get(id);
    return summary && { summary, ...(reply ? { callbackUrl: reply } : {}) };
  }

  /** The campaign's comment, which its jobs leave out (withCampaignComment); undefined once it is gone. */
  async comment(id: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys(id)[0], "comment")) ?? undefined;
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
      ...(h.seenTerminal ? { seenTerminal: Number(h.seenTerminal) } : {}),
      counts,
    };
  }

  /** Notes `n` more actions that the campaign's state check found terminal (for its ETA). */
  async noteSeenTerminal(id: string, n: number): Promise<void> {
    if (n > 0) await this.redis.hincrby(this.keys(id)[0], "seenTerminal", n);
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

  /**
   * True while the campaign is not sealed: the start that created it has not added every job (it
   * failed part-way, or is still adding), and may run again under its id to add the rest.
   */
  async adding(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys(id)[0], "adding")) === 1;
  }

  /** Each action's latest outcome in the campaign: "" while it waits, undefined when not in it. */
  async outcomesOf(id: string, actionIds: string[]): Promise<(string | undefined)[]> {
    if (actionIds.length === 0) return [];
    const values = await this.redis.hmget(this.keys(id)[1], ...actionIds);
    return values.map((v) => v ?? undefined);
  }

  /** One page (HSCAN) of the actions still waiting for their outcome; `next` is "0" after the last. */
  async waitingActions(id: string, cursor: string): Promise<{ actionIds: string[]; next: string }> {
    const [next, flat] = await this.redis.hscan(this.keys(id)[1], cursor, "COUNT", 500);
    const actionIds = flat.filter((_entry, i) => i % 2 === 0 && flat[i + 1] === "");
    return { actionIds, next };
  }

  private keys(id: string): [string, string, string, string] {
    const base = `${this.prefix}:campaign:${id}`;
    return [base, `${base}:outcomes`, `${base}:jobs`, `${base}:failed`];
  }

  private indexKey(): string {
    return `${this.prefix}:campaigns`;
  }
}
