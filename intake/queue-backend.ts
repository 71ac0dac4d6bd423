import type { Queue } from "bullmq";
import {
  cancellable,
  clearStaleTickets,
  DRY_RUN_LOOKUP,
  lookupActions,
  resolveFilter,
  startCampaign,
} from "../jobs/campaign.js";
import { enqueueCancels } from "../jobs/enqueue.js";
import { resultOf } from "../jobs/results-reader.js";
import { type Config, requireWorkerCredentials } from "../shared/config/config.js";
import type { CancelResult, MachineAction } from "../shared/contract/cancel-result.js";
import { isGuid } from "../shared/contract/guid.js";
import { BadRequestError, errorMessage, UsageError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import type { DefenderClient } from "../shared/defender/defender-client.js";
import { createDefenderSession, createLimiter } from "../shared/defender/defender-session.js";
import { type CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { keyPrefix, openQueue } from "../shared/redis/queues.js";
import type {
  CampaignDryRun,
  CampaignOrder,
  CampaignStarted,
  CancelAccepted,
  CancelJobView,
  CancelOrder,
  IntakeBackend,
  JobState,
  ResultsPage,
} from "./backend.js";
import { fieldProblem, IntakeProblem } from "./problem.js";

const STATES: Record<string, JobState> = {
  waiting: "waiting",
  prioritized: "waiting",
  "waiting-children": "waiting",
  delayed: "delayed",
  active: "active",
  completed: "finished",
  failed: "finished",
};

/** The intake's backend on the jobs/ building blocks and one non-blocking Redis connection. */
export class QueueBackend implements IntakeBackend {
  private readonly queue: Queue;
  private readonly store: CampaignStore;
  private defender: DefenderClient | undefined;

  constructor(
    private readonly config: Config,
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
  ) {
    this.queue = openQueue(config.cancelQueue, redis, config);
    // Redis errors surface through the failing call; without a listener BullMQ prints them.
    this.queue.on("error", () => undefined);
    this.store = new CampaignStore(redis, keyPrefix(config), config.resultRetentionMs);
  }

  async enqueue(order: CancelOrder): Promise<CancelAccepted> {
    const { priority, ...request } = order;
    const [enqueued] = await enqueueCancels(this.queue, [request], {
      priority,
      resultRetentionMs: this.config.resultRetentionMs,
    });
    if (!enqueued) throw new IntakeProblem(500, "The job could not be added.");
    const state = enqueued.added ? "waiting" : ((await this.cancelJob(enqueued.jobId))?.state ?? "finished");
    return { ...enqueued, state, promoted: false };
  }

  async cancelJob(jobId: string): Promise<CancelJobView | undefined> {
    const job = await this.queue.getJob(jobId);
    if (!job) return undefined;
    const state = STATES[await job.getState()];
    if (!state) return undefined;
    const named = (job.data as { tenantId?: unknown } | undefined)?.tenantId;
    const tenantId = typeof named === "string" && isGuid(named) ? named.toLowerCase() : this.config.tenantId;
    const result = state === "finished" ? resultOf(job) : undefined;
    return { jobId, tenantId: tenantId ?? null, state, ...(result ? { result } : {}) };
  }

  async startCampaign(order: CampaignOrder): Promise<CampaignStarted> {
    const ids = order.ids ?? cancellable(await this.resolveFilter(order));
    if (order.campaignId && (await this.store.get(order.campaignId))) throw nameTaken(order.campaignId);
    await clearStaleTickets(this.queue, createLimiter(this.config, this.redis), order.tenantId);
    try {
      return await startCampaign(this.queue, this.store, {
        ids,
        comment: order.comment,
        tenantId: order.tenantId,
        campaignId: order.campaignId,
        source: order.ids ? `api ${ids.length} ids` : `filter ${order.filter}`,
        priority: order.priority,
        requestedBy: order.requestedBy,
        resultRetentionMs: this.config.resultRetentionMs,
      });
    } catch (err) {
      // Only a campaign created meanwhile under the same name gets here: the rest was checked.
      if (err instanceof UsageError && order.campaignId) throw nameTaken(order.campaignId);
      throw err;
    }
  }

  async dryRun(order: CampaignOrder): Promise<CampaignDryRun> {
    if (order.filter !== undefined) {
      const listed = await this.resolveFilter(order);
      return {
        source: `filter ${order.filter}`,
        ids: cancellable(listed),
        looked: listed,
        lookedUp: listed.length,
      };
    }
    const ids = order.ids ?? [];
    const source = `api ${ids.length} ids`;
    if (!this.hasCredentials()) return { source, ids, lookedUp: 0 };
    const looked = await this.defenderCall(() =>
      lookupActions(this.client(), order.tenantId, ids.slice(0, DRY_RUN_LOOKUP)),
    );
    return { source, ids, looked, lookedUp: Math.min(ids.length, DRY_RUN_LOOKUP) };
  }

  campaign(campaignId: string): Promise<CampaignRecord | undefined> {
    return this.store.get(campaignId);
  }

  async campaignResults(campaignId: string, cursor: string | undefined, limit: number): Promise<ResultsPage> {
    const page = await this.store.finishedJobs(campaignId, cursor ?? "0", limit);
    const jobs = await Promise.all(page.jobIds.map((id) => this.queue.getJob(id)));
    const results = jobs
      .map((job) => (job ? resultOf(job) : undefined))
      .filter((r): r is CancelResult => r !== undefined)
      .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
    return { results, next: page.next };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  private async resolveFilter(order: CampaignOrder): Promise<MachineAction[]> {
    const filter = order.filter ?? "";
    if (!this.hasCredentials())
      throw fieldProblem(
        "filter",
        "needs this service's Defender credentials (AZURE_CLIENT_ID and a secret or certificate); send machineActionIds instead",
      );
    try {
      return await this.defenderCall(() =>
        resolveFilter(this.client(), order.tenantId, filter, { max: order.max }),
      );
    } catch (err) {
      // resolveFilter's only UsageError: more cancellable matches than max.
      if (err instanceof UsageError)
        throw fieldProblem(
          "filter",
          `matches more than max ${order.max} actions that can be cancelled; narrow it, or raise max`,
        );
      throw err;
    }
  }

  /** Defender's refusal of a filter is the caller's to fix; anything else is ours (502). */
  private async defenderCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof BadRequestError)
        throw fieldProblem("filter", `was refused by Defender (${err.message})`);
      if (err instanceof UsageError || err instanceof IntakeProblem) throw err;
      this.logger.warn({ err: errorMessage(err) }, "Defender list call failed");
      throw new IntakeProblem(502, "Defender did not answer the list call; try again later.", undefined, 30);
    }
  }

  private hasCredentials(): boolean {
    const { tenantId, clientId, clientSecret, clientCertificatePath } = this.config;
    return Boolean(tenantId && clientId && (clientSecret || clientCertificatePath));
  }

  /** Created on first use: only filters and dry-run lookups call Defender. */
  private client(): DefenderClient {
    this.defender ??= createDefenderSession(
      this.config,
      requireWorkerCredentials(this.config),
      this.redis,
      this.logger,
    ).client;
    return this.defender;
  }
}

function nameTaken(name: string): IntakeProblem {
  return fieldProblem(
    "name",
    `${JSON.stringify(name)} is the id of an existing campaign; choose another name`,
  );
}
