import { hostname } from "node:os";
import type { Queue } from "bullmq";
import type { Config } from "../shared/config/config.js";
import { requireWorkerCredentials } from "../shared/config/credentials.js";
import type { CancelRequest } from "../shared/contract/cancel-job.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { createLogger, type Logger } from "../shared/core/logger.js";
import type { DefenderClient } from "../shared/defender/defender-client.js";
import { createDefenderSession, createLimiter } from "../shared/defender/defender-session.js";
import { AuditLog, type AuditSink, type AuditWho } from "../shared/redis/audit-log.js";
import { CallbackStore } from "../shared/redis/callback-store.js";
import { type CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import { connectRedis, type RedisConnection } from "../shared/redis/connection.js";
import { keyPrefix, openQueue } from "../shared/redis/queues.js";
import type { RateLimiter } from "../shared/redis/rate-limiter.js";
import {
  type CampaignStart,
  checkCampaign,
  clearStaleTickets,
  DRY_RUN_LOOKUP,
  lookupActions,
  startCampaign,
} from "./campaign.js";
import { abortCampaign } from "./campaign-abort.js";
import {
  type CampaignOrder,
  type ConfirmCampaign,
  type DryRun,
  type ResolvedSource,
  resolveSource,
} from "./campaign-order.js";
import { budgetJobsPerMs, type ProgressSample, waitForCampaign } from "./campaign-progress.js";
import { type Enqueued, type EnqueueOptions, enqueueCancels } from "./enqueue.js";
import { type JobView, viewJob } from "./job-view.js";
import { type ProducerStatus, readStatus } from "./producer-status.js";
import {
  followResults,
  type ReadOptions,
  readCampaignPage,
  readResults,
  streamResults,
} from "./results-reader.js";

export interface ProducerOptions {
  /** Where the Defender session of filters and dry-run lookups logs; default silent (a command prints its own lines). */
  logger?: Logger;
  /** Where requests come from, for the audit trail; default `library@<host>`. A request's own `who` wins. */
  client?: string;
  /**
   * false: this producer's requests are left out of the audit trail, because its front door
   * records them itself (serve's audit hook, with the API key and the client's address). Default true.
   */
  audit?: boolean;
}

/**
 * The producer side, opened once from a Config: every front door (the CLI, the HTTP intake, a
 * service using the library) enqueues, runs campaigns and reads results through it. It owns one
 * non-blocking Redis connection and what is built on it; Defender is reached only for filters and
 * dry-run lookups, through a session created on first use.
 */
export class Producer {
  private readonly queue: Queue;
  private readonly store: CampaignStore;
  private readonly limiter: RateLimiter;
  private readonly auditLog: AuditLog;
  /**
   * Callback registrations: `registerJob` or `registerCampaign` right after enqueueing or starting
   * (what finished in between still gets its delivery), `drop` to unsubscribe (the cancel goes
   * on), `counts` for status. URLs must have passed the caller's guard.
   */
  readonly callbacks: CallbackStore;
  private defender: DefenderClient | undefined;

  private constructor(
    readonly config: Config,
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
    private readonly origin: string,
    private readonly auditing: boolean,
  ) {
    this.queue = this.openQueue(config.cancelQueue);
    this.store = new CampaignStore(redis, keyPrefix(config), config.resultRetentionMs);
    this.limiter = createLimiter(config, redis);
    this.auditLog = new AuditLog(redis, keyPrefix(config), config.auditRetentionMs);
    this.callbacks = new CallbackStore(redis, config);
    this.callbacks.queue.on("error", () => undefined);
  }

  /** Connects to Redis, or fails with an OperationalError naming it. */
  static async open(config: Config, options: ProducerOptions = {}): Promise<Producer> {
    const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
    const client = options.client ?? `library@${hostname()}`;
    const logger = options.logger ?? createLogger("silent");
    return new Producer(config, redis, logger, client, options.audit ?? true);
  }

  /**
   * All or nothing (see enqueueCancels); requests without a tenant take `defaultTenantId`, else
   * AZURE_TENANT_ID. Each is recorded in the audit trail as asked by `who`.
   */
  enqueue(
    requests: readonly CancelRequest[],
    options: Omit<EnqueueOptions, "resultRetentionMs" | "audit"> & { who?: AuditWho } = {},
  ): Promise<Enqueued[]> {
    return enqueueCancels(this.queue, requests, {
      defaultTenantId: options.defaultTenantId ?? this.config.tenantId,
      priority: options.priority,
      resultRetentionMs: this.config.resultRetentionMs,
      audit: this.auditing ? this.audit(options.who) : undefined,
    });
  }

  /** The audit trail as `who` writes to it: a front door's refusals, say (HTTP 401, 403, 4xx). */
  audit(who: AuditWho = {}): AuditSink {
    return this.auditLog.as({ ...who, client: who.client ?? this.origin });
  }

  /**
   * Resolves the source, then records the campaign and adds its jobs. With `confirm`, a count the
   * caller declines enqueues nothing and returns undefined.
   */
  startCampaign(order: CampaignOrder): Promise<CampaignStart>;
  startCampaign(
    order: CampaignOrder,
    options: { confirm?: ConfirmCampaign; who?: AuditWho },
  ): Promise<CampaignStart | undefined>;
  async startCampaign(
    order: CampaignOrder,
    options: { confirm?: ConfirmCampaign; who?: AuditWho } = {},
  ): Promise<CampaignStart | undefined> {
    checkCampaign(order);
    const { ids, source, replayOf } = await this.resolve(order);
    if (options.confirm && !(await options.confirm(ids.length))) return undefined;
    await clearStaleTickets(this.queue, this.limiter, order.tenantId);
    const extras = { audit: this.auditing ? this.audit(options.who) : undefined, callbacks: this.callbacks };
    const request = {
      ids,
      source,
      comment: order.comment,
      tenantId: order.tenantId,
      campaignId: replayOf ?? order.campaignId,
      replay: replayOf !== undefined,
      priority: order.priority,
      requestedBy: order.requestedBy,
      resultRetentionMs: this.config.resultRetentionMs,
    };
    return startCampaign(this.queue, this.store, request, extras);
  }

  /**
   * Finishes in place the campaign's jobs that wait and have sent no cancel, each with its result
   * (`failed`, code `aborted`), published like the worker's; jobs in hand are left to finish.
   * A campaign not kept in Redis is a UsageError.
   */
  async abortCampaign(campaignId: string): Promise<{ campaignId: string; aborted: number }> {
    const deps = { queue: this.queue, store: this.store, redis: this.redis, config: this.config };
    const aborted = await abortCampaign(deps, campaignId);
    return { campaignId, aborted };
  }

  /** Resolves the source and, with credentials, looks up the current state of the first ids. */
  async dryRun(order: Pick<CampaignOrder, "tenantId" | "source">): Promise<DryRun> {
    const { ids, source, listed } = await this.resolve(order);
    if (listed || !this.hasCredentials()) return { source, ids, looked: listed, lookedUp: ids.length };
    const looked = await lookupActions(this.client(), order.tenantId, ids.slice(0, DRY_RUN_LOOKUP));
    return { source, ids, looked, lookedUp: Math.min(ids.length, DRY_RUN_LOOKUP) };
  }

  /** The campaign's record, while RESULT_RETENTION keeps it. */
  campaign(campaignId: string): Promise<CampaignRecord | undefined> {
    return this.store.get(campaignId);
  }

  /** One page of the campaign's results (see readCampaignPage): `cursor` from the previous page's `next`. */
  campaignResults(
    campaignId: string,
    options: { cursor?: string; limit: number },
  ): Promise<{ results: CancelResult[]; next: string | null }> {
    return readCampaignPage(this.queue, this.store, campaignId, options);
  }

  /** A cancel job's state, and its result once finished; undefined when unknown. */
  job(jobId: string): Promise<JobView | undefined> {
    return viewJob(this.queue, jobId, this.config.tenantId);
  }

  /** The actions of the campaign whose latest outcome is failed. */
  failedActions(campaignId: string): Promise<string[]> {
    return this.store.failedActions(campaignId);
  }

  /** Polls until every action of the campaign has its outcome; undefined once `signal` aborts (the campaign runs on). */
  waitForCampaign(
    campaignId: string,
    options: { signal?: AbortSignal; intervalMs?: number; onSample?: (sample: ProgressSample) => void } = {},
  ): Promise<CampaignRecord | undefined> {
    const { rateLimits, campaignBudgetShare } = this.config;
    return waitForCampaign(this.store, campaignId, {
      ...options,
      budgetPerMs: budgetJobsPerMs(rateLimits, campaignBudgetShare),
    });
  }

  /** The results kept on finished jobs, oldest first, in one array; no results queue is consumed. */
  results(options: ReadOptions = {}): Promise<CancelResult[]> {
    return readResults(this.queue, options);
  }

  /** The same, newest first, a page at a time: for reading thousands without holding them. */
  streamResults(options: ReadOptions = {}): AsyncGenerator<CancelResult> {
    return streamResults(this.queue, options);
  }

  /** Hands each new result to `onResult` as jobs finish, until `signal` aborts. */
  followResults(
    onResult: (result: CancelResult) => void,
    options: Parameters<typeof followResults>[2] = {},
  ): Promise<void> {
    return followResults(this.queue, onResult, options);
  }

  /** Job counts per queue, the budget left per endpoint of AZURE_TENANT_ID, and campaigns in progress. */
  status(): Promise<ProducerStatus> {
    const tenants = this.config.tenantId ? [this.config.tenantId] : [];
    return this.withResultsQueues((queues) =>
      readStatus([this.queue, ...queues], this.limiter, this.store, tenants, this.callbacks),
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.callbacks.close()]);
    this.redis.disconnect();
  }

  private resolve(order: Pick<CampaignOrder, "tenantId" | "source">): Promise<ResolvedSource> {
    return resolveSource(order.source, {
      tenantId: order.tenantId,
      store: this.store,
      client: () => this.client(),
    });
  }

  private hasCredentials(): boolean {
    const { clientId, clientSecret, clientCertificatePath } = this.config;
    return Boolean(clientId && (clientSecret || clientCertificatePath));
  }

  /** Created on first use: only filters and lookups call Defender, and only they need credentials. */
  private client(): DefenderClient {
    this.defender ??= createDefenderSession(
      this.config,
      requireWorkerCredentials(this.config),
      this.redis,
      this.logger,
    ).client;
    return this.defender;
  }

  /** Opens a queue per RESULTS_QUEUE entry for `use` alone. */
  private async withResultsQueues<T>(use: (queues: Queue[]) => Promise<T>): Promise<T> {
    const queues = this.config.resultsQueues.map((name) => this.openQueue(name));
    try {
      return await use(queues);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  }

  /** Redis errors surface through the failing call; without a listener BullMQ would print a stack trace. */
  private openQueue(name: string): Queue {
    const queue = openQueue(name, this.redis, this.config);
    queue.on("error", () => undefined);
    return queue;
  }
}
