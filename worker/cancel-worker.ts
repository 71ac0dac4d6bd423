import { DelayedError, type Job, Worker } from "bullmq";
import type { Config } from "../shared/config/config.js";
import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { gaveUpResult } from "../shared/contract/cancel-result.js";
import { TransientError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import type { DefenderClient } from "../shared/defender/defender-client.js";
import { CampaignComments } from "../shared/redis/campaign-comments.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import { CancelClaims, type ClaimBudget } from "../shared/redis/cancel-claims.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { FencedProgress } from "../shared/redis/fenced-progress.js";
import { keyPrefix, retentionOptions } from "../shared/redis/queues.js";
import { RecentSightings } from "../shared/redis/recent-sightings.js";
import { ActionChecks } from "./action-checks.js";
import { usesCampaignBudget } from "./budget-class.js";
import { processCancel } from "./cancel-processor.js";
import { type DelayReason, readState } from "./job-state.js";
import type { ActionsApi } from "./processor-types.js";
import type { ResultPublisher } from "./result-publisher.js";

/** The tenants a worker serves now (a reload swaps them), and each one's Defender client. */
export interface WorkerTenants {
  readonly directory: TenantDirectory<TenantInfo>;
  /** With its limiter, a cancel's claim and budget are one script (CancelClaims). */
  sessionFor(
    tenantId: string,
  ):
    | { client: ActionsApi & Pick<DefenderClient, "checkActions">; limiter?: ClaimBudget["limiter"] }
    | undefined;
}

export interface CancelWorkerDeps {
  config: Config;
  tenants: WorkerTenants;
  /** A connection made with maxRetriesPerRequest: null, as BullMQ workers require. */
  connection: RedisConnection;
  publisher: ResultPublisher;
  logger: Logger;
  onOutcome?: (result: CancelResult, durationMs: number) => void;
  /** Called each time a job goes back to Redis to wait, for metrics. */
  onDelay?: (reason: DelayReason, ms: number) => void;
}

/** Wires the rule into a BullMQ worker: delays go back to Redis, results are published once. */
export function createCancelWorker(deps: CancelWorkerDeps): Worker {
  const { config, logger } = deps;
  const settings = {
    maxAttempts: config.maxAttempts,
    throttleGiveUpMs: config.throttleGiveUpMs,
    notFoundGraceMs: config.notFoundGraceMs,
    // Renewed while its run lives; after a crash it must outlast the dead run's POST, on the wire for
    // up to one HTTP timeout after the last renewal (a third of the claim earlier): 2/3 of this > 1 timeout.
    cancelClaimMs: 2 * config.httpTimeoutMs + 5_000,
  };
  const claims = new CancelClaims(deps.connection, keyPrefix(config));
  const progress = new FencedProgress(deps.connection);
  // A campaign's jobs leave its comment to its record: read once per campaign.
  const comments = new CampaignComments(
    new CampaignStore(deps.connection, keyPrefix(config), config.resultRetentionMs),
  );
  const sightings = new RecentSightings(deps.connection, keyPrefix(config));
  const api = tenantRouter(deps.tenants, config.checkGatherMs, sightings);

  const finish = async (job: Job, result: CancelResult, started: number) => {
    await deps.publisher.publish(result);
    deps.onOutcome?.(result, Date.now() - started);
    logger.info(
      {
        jobId: job.id,
        machineActionId: result.machineActionId,
        tenantId: result.tenantId,
        outcome: result.outcome,
        status: result.status,
        error: result.error?.code,
        // Why it failed (an AADSTS code, Defender's error code); the credential's refusal itself is logged once.
        reason: result.error?.message,
        httpStatus: result.error?.httpStatus,
        target: result.error?.target,
        attempts: result.attempts,
        ms: Date.now() - job.timestamp,
      },
      "job finished",
    );
    return result;
  };

  const worker = new Worker(
    config.cancelQueue,
    async (job: Job, token?: string, signal?: AbortSignal) => {
      const started = Date.now();
      const state = readState(job.progress);
      // Decided before a crash: publish again (idempotent) rather than ask Defender again.
      if (state.result) return finish(job, state.result, started);
      const priority = Number(job.priority) || 0;
      // The budget class the processor gives the cancel (budget-class.ts), so its admission fits.
      const campaign = usesCampaignBudget({ campaignId: stringOrUndefined(job.data?.campaignId) }, priority);
      const budgetOf = (tenantId: string) => {
        const limiter = deps.tenants.sessionFor(tenantId)?.limiter;
        return limiter && { limiter, campaign };
      };
      const data = await comments.fill(job.data);
      const decision = await processCancel(
        // The priority as stored now (a promotion changes it), not as added: BullMQ may hand it over as a string.
        {
          jobId: String(job.id),
          data,
          enqueuedAt: job.timestamp,
          priority,
          state,
        },
        {
          api,
          settings,
          tenants: deps.tenants.directory,
          sightings,
          claims: {
            claim: (tenantId, actionId, ms) => claims.claim(tenantId, actionId, ms, budgetOf(tenantId)),
          },
          signal,
          saveState: (s) => progress.save(job, token, { ...s }),
        },
      );
      if (decision.kind === "delay") {
        logger.debug({ jobId: job.id, reason: decision.reason, delayMs: decision.ms }, "job delayed");
        deps.onDelay?.(decision.reason, decision.ms);
        await job.moveToDelayed(Date.now() + decision.ms, token);
        throw new DelayedError();
      }
      await progress.save(job, token, { ...readState(job.progress), result: decision.result });
      return finish(job, decision.result, started);
    },
    {
      connection: deps.connection,
      prefix: config.queuePrefix,
      concurrency: config.workerConcurrency,
      // A crashed worker's jobs are found stalled and taken over after about one lock duration.
      lockDuration: config.workerLockMs,
      stalledInterval: config.workerLockMs,
      maxStalledCount: 1,
      ...retentionOptions(config),
    },
  );

  // BullMQ fails a job on its own when it stalled too often or Redis broke mid-job; it still gets a result.
  worker.on("failed", (job, err) => {
    if (!job) return;
    const final = err.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    const state = readState(job.progress);
    // Its campaign's comment as this worker read it when it ran the job (no wait: shutdown waits only
    // for publishes already under way).
    const ref = { jobId: String(job.id), data: comments.fillKnown(job.data), enqueuedAt: job.timestamp };
    const { directory } = deps.tenants;
    const given = gaveUpResult(
      ref,
      state.failures + 1,
      err.message,
      state.result,
      directory.defaultTenant?.tenantId,
    );
    // The tenant's id, as every other result carries it, also when the job named it by name.
    const tenantId = (given.tenantId && directory.resolve(given.tenantId)?.tenantId) ?? given.tenantId;
    const result = { ...given, tenantId };
    // Kept on the job too, so `results` and HTTP polling read this result (tenant included), not one
    // rebuilt without the worker's default tenant; best effort, the published result is the record.
    job.updateProgress({ ...state, result }).catch(() => undefined);
    // The publisher retries, and shutdown (publisher.close) waits for it.
    finish(job, result, job.processedOn ?? Date.now()).catch((publishErr) =>
      logger.error(
        { jobId: job.id, err: publishErr.message },
        "could not publish the result of a failed job",
      ),
    );
  });
  worker.on("error", (err) => logger.error({ err: err.message }, "worker error"));
  return worker;
}

/**
 * Each call goes to the client of its tenant: its token, its API host, its budget. The state checks
 * of the jobs running at once are gathered into batched list calls (ActionChecks).
 */
function tenantRouter(tenants: WorkerTenants, checkGatherMs: number, ahead: RecentSightings): ActionsApi {
  const clientOf = (tenantId: string) => {
    const session = tenants.sessionFor(tenantId);
    // A reload dropped the tenant while its job ran: the next run finds it unknown.
    if (!session)
      throw new TransientError(`tenant ${tenantId} is no longer served (MDE_TENANTS_FILE reloaded)`);
    return session.client;
  };
  const checks = new ActionChecks(
    {
      checkActions: async (tenantId, ids, options) => clientOf(tenantId).checkActions(tenantId, ids, options),
      getAction: async (tenantId, id, options) => clientOf(tenantId).getAction(tenantId, id, options),
    },
    { gatherMs: checkGatherMs, ahead },
  );
  return {
    getAction: (tenantId, id, options) => checks.getAction(tenantId, id, options),
    cancelAction: async (tenantId, id, comment, options) =>
      clientOf(tenantId).cancelAction(tenantId, id, comment, options),
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
