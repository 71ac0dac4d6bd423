import type { Worker } from "bullmq";
import type { Config } from "../shared/config/config.js";
import type { TenantDirectory, TenantSettings } from "../shared/config/tenant-directory.js";
import { errorMessage, OperationalError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import { CredentialHealth } from "../shared/defender/credential-health.js";
import { type TenantHooks, TenantSessions } from "../shared/defender/tenant-sessions.js";
import { TenantTokens } from "../shared/defender/tenant-tokens.js";
import { connectRedis, describeRedisUrl, evictionPolicy } from "../shared/redis/connection.js";
import { createCancelWorker } from "./cancel-worker.js";
import { watchTenants } from "./credential-watch.js";
import { dashboardSettings } from "./dashboard-auth.js";
import { type Operations, startOperations } from "./operations.js";
import { reloadTenantsFrom } from "./reload-tenants.js";
import { ResultPublisher } from "./result-publisher.js";

export interface RunningWorker {
  worker: Worker;
  /** Each tenant's token provider, and what Entra ID last said of its credential. */
  tokens: TenantTokens;
  /** Each tenant's client and budget. */
  sessions: TenantSessions;
  /** The bound port of /metrics, /healthz and /readyz; undefined when METRICS_PORT is 0. */
  httpPort?: number;
  /** The bound port of the queue dashboard; undefined when DASHBOARD_PORT is unset. */
  dashboardPort?: number;
  /**
   * Serves the tenants `load` reads (SIGHUP reads MDE_TENANTS_FILE again): true once they are
   * served; false when `load` throws or a certificate is unusable, which is logged, and the
   * tenants served so far are kept.
   */
  reloadTenants(load: () => TenantDirectory<TenantSettings>): boolean;
  /** Stops taking jobs, lets the ones in hand finish, puts back (delayed) what is left after the timeout. */
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  config: Config;
  /** The tenants to serve (loadTenants): MDE_TENANTS_FILE, or the one tenant of AZURE_TENANT_ID. */
  tenants: TenantDirectory<TenantSettings>;
  logger: Logger;
  /** How long a refused credential waits before it is tried again; default REFUSED_RETRY_MS (a minute). */
  credentialRetryMs?: number;
}

/** Everything a worker process runs, built from the parsed config. */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger } = options;
  // Refused before anything connects: an unprotected dashboard must not even start, a bad certificate neither.
  const dashboard = dashboardSettings(config);
  const health = new CredentialHealth({ retryMs: options.credentialRetryMs });
  // Every tenant's token provider, its certificate read and checked (a UsageError names it).
  const tokens = new TenantTokens({ config, directory: options.tenants, logger, health });
  const connection = await connectRedis(config.redisUrl, { blocking: true, queuePrefix: config.queuePrefix });
  // Whatever opened is closed again when a later step fails: an open socket or server would keep
  // the process alive after the error was printed.
  const opened: (() => unknown)[] = [() => connection.disconnect()];
  // Metrics are wired into the clients by late binding: the operations server needs the tokens first.
  const hooks: TenantHooks = {};
  const sessions = new TenantSessions({ config, tokens, redis: connection, logger, hooks });
  let ops: Operations;
  let publisher: ResultPublisher;
  let worker: Worker;
  try {
    const policy = await evictionPolicy(connection);
    if (policy && policy !== "noeviction") {
      logger.warn(
        { maxmemoryPolicy: policy },
        `Redis maxmemory-policy is ${policy}, not noeviction: under memory pressure Redis may evict queued jobs, which would vanish. Set maxmemory-policy noeviction.`,
      );
    }
    ops = await startOperations({ config, tenants: () => tokens.directory, tokens, dashboard, logger });
    opened.push(() => ops.close());
    hooks.onResponse = ops.metrics?.onResponse;
    hooks.onThrottled = ops.metrics?.onThrottled;
    publisher = new ResultPublisher(connection, config);
    opened.push(() => publisher.close());
    worker = createCancelWorker({
      config,
      tenants: sessions,
      connection,
      publisher,
      logger,
      onOutcome: ops.metrics?.onOutcome,
      onDelay: ops.metrics?.onDelay,
    });
    opened.push(() => worker.close(true));
    await worker.waitUntilReady().catch((err) => {
      throw new OperationalError(
        `the worker could not get ready on Redis at ${describeRedisUrl(config.redisUrl)} (${errorMessage(err)}); check REDIS_URL and that Redis accepts more clients (maxclients).`,
      );
    });
    const { defaultTenant, size, file } = tokens.directory;
    logger.info(
      {
        queue: config.cancelQueue,
        concurrency: config.workerConcurrency,
        tenantId: defaultTenant?.tenantId,
        tenants: size,
        tenantsFile: file,
      },
      "worker started",
    );
  } catch (err) {
    for (const close of opened.reverse()) {
      try {
        await close();
      } catch {
        // Already failing: the error worth reporting is the one that stopped the start.
      }
    }
    throw err;
  }
  const watch = watchTenants(tokens, logger);
  const reloadTenants = (load: () => TenantDirectory<TenantSettings>) => {
    const reloaded = reloadTenantsFrom(load, tokens, logger);
    if (reloaded) watch.sync();
    return reloaded;
  };

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ timeoutMs: config.shutdownTimeoutMs }, "worker stopping");
      watch.stop();
      ops.markStopping();
      const closed = worker.close();
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, true).unref()),
      ]);
      if (timedOut) {
        // Abort what is still running: the processor answers an abort by delaying its job, never by
        // losing it. A job waiting for Entra ID is answered at once, not after HTTP_TIMEOUT_MS.
        logger.warn("shutdown timeout reached: putting in-flight jobs back");
        worker.cancelAllJobs("shutdown");
        tokens.close();
        await closed;
      }
      tokens.close();
      await publisher.close();
      await ops.close();
      connection.disconnect();
      logger.info("worker stopped");
    })();
    return stopping;
  };
  return {
    worker,
    tokens,
    sessions,
    httpPort: ops.httpPort,
    dashboardPort: ops.dashboardPort,
    reloadTenants,
    stop,
  };
}
