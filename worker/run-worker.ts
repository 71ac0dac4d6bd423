import type { Worker } from "bullmq";
import type { Config } from "../shared/config/config.js";
import type { WorkerCredentials } from "../shared/config/credentials.js";
import type { Logger } from "../shared/core/logger.js";
import { createDefenderSession, type DefenderHooks } from "../shared/defender/defender-session.js";
import type { TokenProvider } from "../shared/defender/token-provider.js";
import { connectRedis, evictionPolicy } from "../shared/redis/connection.js";
import type { RateLimiter } from "../shared/redis/rate-limiter.js";
import { createCancelWorker } from "./cancel-worker.js";
import { dashboardSettings } from "./dashboard-auth.js";
import { startOperations } from "./operations.js";
import { ResultPublisher } from "./result-publisher.js";

export interface RunningWorker {
  worker: Worker;
  tokens: TokenProvider;
  limiter: RateLimiter;
  /** The bound port of /metrics, /healthz and /readyz; undefined when METRICS_PORT is 0. */
  httpPort?: number;
  /** The bound port of the queue dashboard; undefined when DASHBOARD_PORT is unset. */
  dashboardPort?: number;
  /** Stops taking jobs, lets the ones in hand finish, puts back (delayed) what is left after the timeout. */
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  config: Config;
  credentials: WorkerCredentials;
  logger: Logger;
}

/** Everything a worker process runs, built from the parsed config. */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, credentials, logger } = options;
  // Refused before anything connects: an unprotected dashboard must not even start.
  const dashboard = dashboardSettings(config);
  const connection = await connectRedis(config.redisUrl, { blocking: true, queuePrefix: config.queuePrefix });
  const policy = await evictionPolicy(connection);
  if (policy && policy !== "noeviction") {
    logger.warn(
      { maxmemoryPolicy: policy },
      `Redis maxmemory-policy is ${policy}, not noeviction: under memory pressure Redis may evict queued jobs, which would vanish. Set maxmemory-policy noeviction.`,
    );
  }
  // Metrics are wired into the client by late binding: the operations server needs the token provider first.
  const hooks: DefenderHooks = {};
  const {
    tokens,
    limiter,
    client: api,
  } = createDefenderSession(config, credentials, connection, logger, {
    onResponse: (endpoint, status) => hooks.onResponse?.(endpoint, status),
    onThrottled: (endpoint) => hooks.onThrottled?.(endpoint),
  });
  const ops = await startOperations({
    config,
    tenantId: credentials.tenantId,
    tokens,
    dashboard,
    logger,
  }).catch((err) => {
    connection.disconnect();
    throw err;
  });
  hooks.onResponse = ops.metrics?.onResponse;
  hooks.onThrottled = ops.metrics?.onThrottled;
  const publisher = new ResultPublisher(connection, config);
  const worker = createCancelWorker({
    config,
    tenantId: credentials.tenantId,
    connection,
    api,
    publisher,
    logger,
    onOutcome: ops.metrics?.onOutcome,
    onDelay: ops.metrics?.onDelay,
  });
  await worker.waitUntilReady();
  logger.info(
    { queue: config.cancelQueue, concurrency: config.workerConcurrency, tenantId: credentials.tenantId },
    "worker started",
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ timeoutMs: config.shutdownTimeoutMs }, "worker stopping");
      ops.markStopping();
      const closed = worker.close();
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, true).unref()),
      ]);
      if (timedOut) {
        // Abort what is still running: the processor answers an abort by delaying its job, never by losing it.
        logger.warn("shutdown timeout reached: putting in-flight jobs back");
        worker.cancelAllJobs("shutdown");
        await closed;
      }
      await publisher.close();
      await ops.close();
      connection.disconnect();
      logger.info("worker stopped");
    })();
    return stopping;
  };
  return { worker, tokens, limiter, httpPort: ops.httpPort, dashboardPort: ops.dashboardPort, stop };
}
