import type { Queue } from "bullmq";
import type { Config } from "../config/config.js";
import { type Delivery, webhookId } from "../contract/callback-event.js";
import type { CancelResult } from "../contract/cancel-result.js";
import { CampaignStore, type FinishedCampaign } from "./campaign-store.js";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";
import { callbacksQueueName, keyPrefix, openQueue, retentionOptions } from "./queues.js";

/**
 * How long a finished job stays known to a registration that arrives after it: a front door
 * registers right after its enqueue answered, but the job may finish in between.
 */
export const LATE_REGISTRATION_MS = 10 * 60_000;

// A job's callback key holds its URL, or one of these markers (no URL starts with `~`).
const REGISTER = `
-- KEYS: callback; ARGV: url, ttlMs. Returns 1 when the job had already finished.
local old = redis.call("GET", KEYS[1])
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
if old == "~finished" then return 1 end
return 0
`;
const FINISH = `
-- KEYS: callback; ARGV: windowMs. Returns the registered URL, or marks the job finished.
local v = redis.call("GET", KEYS[1])
if not v then
  redis.call("SET", KEYS[1], "~finished", "PX", ARGV[1])
  return false
end
if string.sub(v, 1, 1) == "~" then return false end
return v
`;
const DROP = `
-- KEYS: callback; ARGV: ttlMs. Returns 1 when a URL was registered.
local v = redis.call("GET", KEYS[1])
redis.call("SET", KEYS[1], "~dropped", "PX", ARGV[1])
if v and string.sub(v, 1, 1) ~= "~" then return 1 end
return 0
`;

export interface DeliveryCounts {
  /** Waiting for their first attempt or a retry, or being sent. */
  pending: number;
  /** Given up (410, refused, or the schedule ran out), kept for RESULT_RETENTION. */
  failed: number;
}

/**
 * Callback registrations and recorded deliveries. The cancel job's data is fixed by the contract,
 * so a job's callback URL lives beside it in Redis, for RESULT_RETENTION; a campaign's lives in its
 * record. Register right after enqueueing or starting: what finished in between is recorded then. Recording is idempotent: a delivery's job id is its `webhook-id`, so a result published
 * twice, or a registration racing the job's end, adds one delivery.
 */
export class CallbackStore {
  readonly queue: Queue;
  private readonly prefix: string;
  private readonly registerScript: LuaScript<number>;
  private readonly finishScript: LuaScript<string | null>;
  private readonly dropScript: LuaScript<number>;
  private readonly campaigns: CampaignStore;

  constructor(
    private readonly redis: RedisConnection,
    private readonly config: Pick<Config, "queuePrefix" | "cancelQueue" | "resultRetentionMs">,
  ) {
    this.queue = openQueue(callbacksQueueName(config), redis, config);
    this.prefix = keyPrefix(config);
    this.registerScript = defineScript(redis, "mdeCallbackRegister", 1, REGISTER);
    this.finishScript = defineScript(redis, "mdeCallbackFinish", 1, FINISH);
    this.dropScript = defineScript(redis, "mdeCallbackDrop", 1, DROP);
    this.campaigns = new CampaignStore(redis, this.prefix, config.resultRetentionMs);
  }

  /**
   * Registers `url` for the job's `cancel.finished`. When the job finished before this call, the
   * delivery is recorded now, its result read by the sender from the finished job.
   */
  async registerJob(jobId: string, url: string): Promise<void> {
    const late = await this.registerScript(this.key(jobId), url, this.config.resultRetentionMs);
    if (late === 1)
      await this.record(
        { url, type: "cancel.finished", timestamp: new Date().toISOString(), subject: jobId, data: null },
        "",
      );
  }

  /**
   * Registers `url` for the campaign's `campaign.finished` (kept with its record); recorded now
   * when the campaign has finished already. False for an unknown campaign.
   */
  async registerCampaign(campaignId: string, url: string): Promise<boolean> {
    const { found, finished } = await this.campaigns.setCallback(campaignId, url);
    if (finished) await this.recordCampaign(finished);
    return found;
  }

  /** The worker's side: records the delivery of a registered job's result (idempotent). */
  async recordResult(result: CancelResult): Promise<boolean> {
    const url = await this.finishScript(this.key(result.jobId), LATE_REGISTRATION_MS);
    if (!url) return false;
    await this.record(
      { url, type: "cancel.finished", timestamp: result.finishedAt, subject: result.jobId, data: result },
      "",
    );
    return true;
  }

  /** Records `campaign.finished` when its starter registered a URL (idempotent). */
  async recordCampaign(finished: FinishedCampaign): Promise<boolean> {
    if (!finished.callbackUrl) return false;
    const { summary } = finished;
    await this.record(
      {
        url: finished.callbackUrl,
        type: "campaign.finished",
        timestamp: new Date().toISOString(),
        subject: summary.id,
        data: summary,
      },
      summary.createdAt,
    );
    return true;
  }

  /**
   * Drops the job's callback: its registration, and its delivery when one is pending. A delivery
   * being sent right now cannot be removed; the sender checks `isDropped` before every attempt.
   * Returns whether anything was registered.
   */
  async drop(jobId: string): Promise<boolean> {
    const registered = await this.dropScript(this.key(jobId), this.config.resultRetentionMs);
    await this.queue.remove(webhookId("cancel.finished", jobId));
    return registered === 1;
  }

  async isDropped(delivery: Pick<Delivery, "type" | "subject">): Promise<boolean> {
    if (delivery.type !== "cancel.finished") return false;
    return (await this.redis.get(this.key(delivery.subject))) === "~dropped";
  }

  /** For `status`: deliveries still to send, and those given up. */
  async counts(): Promise<DeliveryCounts> {
    const c = await this.queue.getJobCounts("waiting", "prioritized", "delayed", "active", "failed");
    const { failed = 0, ...rest } = c;
    return { pending: Object.values(rest).reduce((a, b) => a + b, 0), failed };
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  private async record(delivery: Delivery, version: string): Promise<void> {
    // An existing job id makes add() a no-op: that is what makes recording idempotent.
    await this.queue.add(delivery.type, delivery, {
      jobId: webhookId(delivery.type, delivery.subject, version),
      // For a failure of `serve` itself (Redis erring mid-attempt); a receiver's failures follow
      // the retry schedule instead, by delaying the job without spending these.
      attempts: 10,
      backoff: { type: "exponential", delay: 10_000 },
      ...retentionOptions(this.config),
    });
  }

  private key(jobId: string): string {
    return `${this.prefix}:callback:${jobId}`;
  }
}
