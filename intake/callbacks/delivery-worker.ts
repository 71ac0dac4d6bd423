import { DelayedError, type Job, type Queue, UnrecoverableError, Worker } from "bullmq";
import { resultOf } from "../../jobs/results-reader.js";
import type { Config } from "../../shared/config/config.js";
import { type Delivery, describeCallbackUrl } from "../../shared/contract/callback-event.js";
import type { Logger } from "../../shared/core/logger.js";
import { CallbackStore } from "../../shared/redis/callback-store.js";
import type { RedisConnection } from "../../shared/redis/connection.js";
import { callbacksQueueName, openQueue } from "../../shared/redis/queues.js";
import { type Resolver, systemResolver } from "./callback-guard.js";
import type { DeliveryHooks } from "./callback-metrics.js";
import { DeliveryAttempt } from "./delivery-attempt.js";
import { DEFAULT_RETRY_SCHEDULE, nextRetry, type RetrySchedule } from "./retry-schedule.js";

export interface DeliveryWorkerOptions {
  /** A connection made with maxRetriesPerRequest: null, as BullMQ workers require. */
  connection: RedisConnection;
  config: Pick<Config, "queuePrefix" | "cancelQueue" | "resultRetentionMs">;
  /** INTAKE_WEBHOOK_SECRET: `whsec_<base64>`. */
  secret: string;
  /** INTAKE_CALLBACK_HOSTS. */
  allowedHosts: readonly string[];
  logger: Logger;
  /** Default: the system resolver. */
  resolve?: Resolver;
  /** Default: DEFAULT_RETRY_SCHEDULE (first retry within 30 s, the last 24 h after the first attempt). */
  schedule?: RetrySchedule;
  /** Deliveries sent at once; default 10. */
  concurrency?: number;
  hooks?: DeliveryHooks;
}

/** What a delivery remembers between its attempts, kept on its job so it survives restarts. */
interface DeliveryState {
  attempts: number;
  /** When the first attempt was signed: the schedule counts from here. */
  firstAttemptAt?: number;
  lastError?: string;
}

/**
 * Sends the deliveries workers recorded (`serve`'s side of callbacks). A failed attempt goes
 * back to Redis, delayed per the retry schedule, so pending deliveries outlive this process;
 * 410, a refused URL or the schedule's end fail the delivery (counted, kept for `status`).
 */
export class DeliveryWorker {
  readonly worker: Worker<Delivery>;
  private readonly store: CallbackStore;
  private readonly cancelQueue: Queue;

  constructor(options: DeliveryWorkerOptions) {
    const { connection, config, logger, hooks } = options;
    this.store = new CallbackStore(connection, config);
    this.cancelQueue = openQueue(config.cancelQueue, connection, config);
    const attempt = new DeliveryAttempt(
      options.secret,
      { allowedHosts: options.allowedHosts, resolve: options.resolve ?? systemResolver },
      (delivery) => this.readResult(delivery),
    );
    const schedule = options.schedule ?? DEFAULT_RETRY_SCHEDULE;

    this.worker = new Worker<Delivery>(
      callbacksQueueName(config),
      async (job: Job<Delivery>, token?: string) => {
        const delivery = job.data;
        const id = String(job.id);
        const state = readState(job.progress);
        const log = {
          webhookId: id,
          type: delivery.type,
          subject: delivery.subject,
          to: describeCallbackUrl(delivery.url),
        };
        if (await this.store.isDropped(delivery)) {
          logger.info(log, "callback dropped before delivery");
          hooks?.onAttempt?.("dropped", delivery.type);
          return { dropped: true, attempts: state.attempts };
        }
        const outcome = await attempt.run(id, delivery);
        const attempts = state.attempts + 1;
        if (outcome.ok) {
          logger.info({ ...log, status: outcome.status, attempts }, "callback delivered");
          hooks?.onAttempt?.("delivered", delivery.type);
          return { status: outcome.status, attempts };
        }
        const firstAttemptAt = state.firstAttemptAt ?? outcome.sentAt ?? Date.now();
        const next = outcome.final
          ? ({ retry: false, reason: "refused" } as const)
          : nextRetry(
              {
                elapsedMs: Date.now() - firstAttemptAt,
                status: outcome.status,
                retryAfterMs: outcome.retryAfterMs,
              },
              schedule,
            );
        if (!next.retry) {
          logger.warn({ ...log, attempts, reason: outcome.reason, stop: next.reason }, "callback given up");
          hooks?.onAttempt?.("failed", delivery.type);
          throw new UnrecoverableError(`${next.reason} after ${attempts} attempts: ${outcome.reason}`);
        }
        logger.info(
          { ...log, attempts, reason: outcome.reason, retryInMs: next.delayMs },
          "callback failed; retrying",
        );
        hooks?.onAttempt?.("retrying", delivery.type);
        await job.updateProgress({
          attempts,
          firstAttemptAt,
          lastError: outcome.reason,
        } satisfies DeliveryState);
        await job.moveToDelayed(Date.now() + next.delayMs, token);
        throw new DelayedError();
      },
      {
        connection,
        prefix: config.queuePrefix,
        concurrency: options.concurrency ?? 10,
        // A restart of `serve` mid-attempt stalls the delivery; it is tried again, not failed.
        maxStalledCount: 5,
      },
    );
    this.worker.on("error", (err) => logger.error({ err: err.message }, "callback worker error"));
  }

  /** Resolves once the worker is connected and taking deliveries. */
  async ready(): Promise<this> {
    await this.worker.waitUntilReady();
    return this;
  }

  /** Stops taking deliveries and lets the ones in hand finish; what is pending stays in Redis. */
  async close(): Promise<void> {
    await this.worker.close();
    await Promise.all([this.store.close(), this.cancelQueue.close()]);
  }

  /** A late registration's data: the result kept on the finished cancel job. */
  private async readResult(delivery: Delivery): Promise<unknown | undefined> {
    if (delivery.type !== "cancel.finished") return undefined;
    const job = await this.cancelQueue.getJob(delivery.subject);
    return job ? resultOf(job) : undefined;
  }
}

function readState(progress: unknown): DeliveryState {
  if (progress && typeof progress === "object" && "attempts" in progress) return progress as DeliveryState;
  return { attempts: 0 };
}
