import { hostname } from "node:os";
import type { Queue } from "bullmq";
import type { Config } from "../shared/config/config.js";
import { resolveTenant, type TenantChoice } from "../shared/config/resolve-tenant.js";
import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";
import { loadTenantInfo } from "../shared/config/tenants.js";
import type { CancelRequest } from "../shared/contract/cancel-job.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { UsageError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import { TenantBudgets } from "../shared/defender/tenant-budgets.js";
import { AuditLog, type AuditSink, type AuditWho } from "../shared/redis/audit-log.js";
import { CallbackStore } from "../shared/redis/callback-store.js";
import { type CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import { connectRedis, type RedisConnection } from "../shared/redis/connection.js";
import { PaceCursor } from "../shared/redis/pace-cursor.js";
import { keyPrefix, openQueue } from "../shared/redis/queues.js";
import { RateLimiterLog } from "../shared/redis/rate-limiter-log.js";
import { campaignLook, DRY_RUN_LOOKUP, lookupActions } from "./action-lookup.js";
import { type CampaignStart, checkCampaign, clearStaleTickets, startCampaign } from "./campaign.js";
import { abortCampaign } from "./campaign-abort.js";
import { CampaignClock } from "./campaign-clock.js";
import {
  type CampaignOrder,
  type ConfirmCampaign,
  type DryRun,
  type ResolvedSource,
  resolveSource,
} from "./campaign-order.js";
import { campaignPace } from "./campaign-pace.js";
import type { ProgressSample } from "./campaign-progress.js";
import { DefenderClients } from "./defender-clients.js";
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
  /**
   * The environment as readEnvironment gives it, where a tenant's `clientSecretEnv` is read when a
   * filter or dry run calls Defender for it; default none (such a tenant's filters then fail).
   */
  env?: Record<string, string | undefined>;
  /**
   * The tenants served now, when the caller keeps them (`serve` reads MDE_TENANTS_FILE again on
   * SIGHUP); default: MDE_TENANTS_FILE (else AZURE_TENANT_ID) read once at open.
   */
  tenants?: () => TenantDirectory<TenantInfo>;
}

export interface CampaignStartOptions {
  who?: AuditWho;
  /** false: ids are not looked up before their jobs are added; default true. */
  lookUp?: boolean;
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
  private readonly budgets: TenantBudgets;
  private readonly pace: PaceCursor;
  private readonly auditLog: AuditLog;
  private readonly clock: CampaignClock;
  /**
   * Callback registrations: `registerJob` or `registerCampaign` right after enqueueing or starting
   * (what finished in between still gets its delivery), `drop` to unsubscribe (the cancel goes
   * on), `counts` for status. URLs must have passed the caller's guard.
   */
  readonly callbacks: CallbackStore;
  private readonly defender: DefenderClients;
  private readonly logger: Logger | undefined;

  private constructor(
    readonly config: Config,
    private readonly tenantsNow: () => TenantDirectory<TenantInfo>,
    private readonly redis: RedisConnection,
    options: ProducerOptions,
    private readonly origin: string,
    private readonly auditing: boolean,
  ) {
    this.queue = this.openQueue(config.cancelQueue);
    this.store = new CampaignStore(redis, keyPrefix(config), config.resultRetentionMs);
    this.budgets = new TenantBudgets(config, redis);
    this.pace = new PaceCursor(redis, keyPrefix(config));
    this.defender = new DefenderClients(config, redis, options);
    this.logger = options.logger;
    this.auditLog = new AuditLog(redis, keyPrefix(config), config.auditRetentionMs);
    this.clock = new CampaignClock(
      this.store,
      new RateLimiterLog(redis, keyPrefix(config)),
      tenantsNow,
      config,
    );
    this.callbacks = new CallbackStore(redis, config);
    this.callbacks.queue.on("error", () => undefined);
  }

  /** Reads MDE_TENANTS_FILE (a bad one is a UsageError naming entry and field), then connects to Redis. */
  static async open(config: Config, options: ProducerOptions = {}): Promise<Producer> {
    const read = options.tenants ? undefined : loadTenantInfo({ config, env: options.env ?? {} });
    const tenants = options.tenants ?? (() => read as TenantDirectory<TenantInfo>);
    const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
    const client = options.client ?? `library@${hostname()}`;
    return new Producer(config, tenants, redis, options, client, options.audit ?? true);
  }

  /** The tenants this deployment serves (MDE_TENANTS_FILE, else AZURE_TENANT_ID), without credentials. */
  get tenants(): TenantDirectory<TenantInfo> {
    return this.tenantsNow();
  }

  /**
   * The tenant an id or name stands for (none: the default tenant), or why none: what a front
   * door checks before it stores anything (jobs store the id), and answers 400 or exit 2 with.
   */
  tenant(named: string | undefined, subject?: string): TenantChoice {
    return resolveTenant(this.tenants, named, subject);
  }

  /**
   * All or nothing (see enqueueCancels); each request's tenant (an id or a name) is stored as its
   * id, requests without one take `defaultTenantId`, else the default tenant; a tenant not served
   * refuses the call with a UsageError naming it. Each is recorded in the audit trail as asked by `who`.
   */
  enqueue(
    requests: readonly CancelRequest[],
    options: Omit<EnqueueOptions, "resultRetentionMs" | "audit" | "tenants"> & { who?: AuditWho } = {},
  ): Promise<Enqueued[]> {
    return enqueueCancels(this.queue, requests, {
      defaultTenantId: options.defaultTenantId,
      tenants: this.tenants,
      priority: options.priority,
      audit: this.auditing ? this.audit(options.who) : undefined,
    });
  }

  /** The audit trail as `who` writes to it: a front door's refusals, say (HTTP 401, 403, 4xx). */
  audit(who: AuditWho = {}): AuditSink {
    return this.auditLog.as({ ...who, client: who.client ?? this.origin });
  }

  /**
   * Resolves the source, then records the campaign and adds its jobs, chunk by chunk, each job
   * with the status the campaign saw: a filter's answer, or for ids a batched lookup just before
   * (with credentials; not with `lookUp: false`, which adds at once and leaves the checks to the
   * workers). With `confirm`, a count the caller declines enqueues nothing and returns undefined.
   */
  startCampaign(order: CampaignOrder, options?: CampaignStartOptions): Promise<CampaignStart>;
  startCampaign(
    order: CampaignOrder,
    options: CampaignStartOptions & { confirm?: ConfirmCampaign },
  ): Promise<CampaignStart | undefined>;
  async startCampaign(
    order: CampaignOrder,
    options: CampaignStartOptions & { confirm?: ConfirmCampaign } = {},
  ): Promise<CampaignStart | undefined> {
    checkCampaign(order);
    const tenantId = this.tenantIdOf(order.tenantId);
    const listedAt = Date.now();
    const { ids, source, replayOf, listed } = await this.resolve({ ...order, tenantId });
    if (options.confirm && !(await options.confirm(ids.length))) return undefined;
    await clearStaleTickets(this.queue, this.budgets.for(this.tenants.resolve(tenantId)), tenantId);
    const client = options.lookUp === false ? undefined : this.defender.clientIfCredentials(tenantId);
    const extras = {
      audit: this.auditing ? this.audit(options.who) : undefined,
      callbacks: this.callbacks,
      look: campaignLook({ listed, listedAt, client, tenantId, logger: this.logger }),
      pace: campaignPace(this.pace, tenantId, this.clock.budgetOf(tenantId)),
    };
    const request = {
      ids,
      source,
      comment: order.comment,
      tenantId,
      campaignId: replayOf ?? order.campaignId,
      replay: replayOf !== undefined,
      priority: order.priority,
      requestedBy: order.requestedBy,
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
    // Its jobs' slots of the tenant's pace are free again for the tenant's next campaign.
    const tenantId = (await this.store.get(campaignId))?.tenantId ?? this.config.tenantId;
    if (tenantId) await campaignPace(this.pace, tenantId, this.clock.budgetOf(tenantId)).giveBack(aborted);
    return { campaignId, aborted };
  }

  /** Resolves the source and, with credentials, looks up the current state of the first ids. */
  async dryRun(order: Pick<CampaignOrder, "tenantId" | "source">): Promise<DryRun> {
    const tenantId = this.tenantIdOf(order.tenantId);
    const { ids, source, listed } = await this.resolve({ ...order, tenantId });
    const client = listed ? undefined : this.defender.clientIfCredentials(tenantId);
    if (!client) return { source, ids, looked: listed, lookedUp: ids.length };
    const looked = await lookupActions(client, tenantId, ids.slice(0, DRY_RUN_LOOKUP));
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
    return viewJob(this.queue, jobId, this.tenants.defaultTenant?.tenantId);
  }

  /** The actions of the campaign whose latest outcome is failed. */
  failedActions(campaignId: string): Promise<string[]> {
    return this.store.failedActions(campaignId);
  }

  /**
   * Polls until every action of the campaign has its outcome; undefined once `signal` aborts (the
   * campaign runs on). Its ETA is bounded by the campaign's tenant's budget, not the deployment's.
   */
  async waitForCampaign(
    campaignId: string,
    options: { signal?: AbortSignal; intervalMs?: number; onSample?: (sample: ProgressSample) => void } = {},
  ): Promise<CampaignRecord | undefined> {
    return this.clock.wait(campaignId, options);
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

  /**
   * Job counts per queue, each tenant's budget left per endpoint and any 429 pause (only the
   * tenant `tenant` names, when given), campaigns in progress, callbacks and warnings.
   */
  async status(options: { tenant?: string } = {}): Promise<ProducerStatus> {
    const named = options.tenant === undefined ? undefined : this.tenantIdOf(options.tenant);
    const tenants = this.tenants.list().filter((t) => named === undefined || t.tenantId === named);
    const budgetOf = (tenant: TenantInfo) => this.budgets.for(tenant);
    const status = await this.withResultsQueues((queues) =>
      readStatus([this.queue, ...queues], budgetOf, this.store, tenants, this.callbacks),
    );
    return { ...status, campaigns: await Promise.all(status.campaigns.map((c) => this.clock.withEta(c))) };
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.callbacks.close()]);
    this.redis.disconnect();
  }

  private resolve(order: { tenantId: string; source: CampaignOrder["source"] }): Promise<ResolvedSource> {
    return resolveSource(order.source, {
      tenantId: order.tenantId,
      store: this.store,
      client: () => this.defender.client(order.tenantId),
    });
  }

  /** The id of the tenant `named` stands for; a UsageError naming it when it stands for none. */
  private tenantIdOf(named: string | undefined): string {
    const choice = resolveTenant(this.tenants, named);
    if (choice.problem !== undefined) throw new UsageError(`${choice.problem}.`);
    return choice.tenantId;
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
