import type { Queue } from "bullmq";
import type { Config } from "../shared/config/config.js";
import {
  type TenantDirectory,
  type TenantInfo,
  UNKNOWN_TENANT_LABEL,
} from "../shared/config/tenant-directory.js";
import { errorMessage, OperationalError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import { withTimeout } from "../shared/core/with-timeout.js";
import type { CredentialHealth } from "../shared/defender/credential-health.js";
import { TenantBudgets } from "../shared/defender/tenant-budgets.js";
import { connectRedis, type RedisConnection } from "../shared/redis/connection.js";
import { openQueue } from "../shared/redis/queues.js";
import { credentialReadiness } from "./credential-readiness.js";
import { startDashboard } from "./dashboard.js";
import type { DashboardSettings } from "./dashboard-auth.js";
import { type ListeningServer, type Readiness, startOpsServer } from "./http-server.js";
import { WorkerMetrics } from "./metrics.js";

/** How long /readyz waits for PING: a probe must answer well within its own timeout. */
const READY_TIMEOUT_MS = 2_000;

export interface Operations {
  /** Present when METRICS_PORT is not 0: the hooks to give the client and the worker. */
  metrics?: WorkerMetrics;
  httpPort?: number;
  dashboardPort?: number;
  /** From now on /readyz answers 503, so a load balancer or orchestrator stops counting on us. */
  markStopping(): void;
  close(): Promise<void>;
}

export interface OperationsOptions {
  config: Config;
  /** The tenants served now (a reload swaps them): metrics and readiness follow. */
  tenants: () => TenantDirectory<TenantInfo>;
  /** Token counts for metrics; what Entra ID last said of each tenant's credential, for readiness. */
  tokens: { readonly acquired: number; readonly health: CredentialHealth };
  dashboard?: DashboardSettings;
  logger: Logger;
}

/**
 * The worker's metrics, probes and dashboard. They use a connection of their own that fails
 * fast when Redis is away, unlike the worker's (which queues commands until Redis returns), so
 * that /readyz and /metrics answer during an outage instead of hanging.
 */
export async function startOperations(options: OperationsOptions): Promise<Operations> {
  const { config, tenants, dashboard, logger } = options;
  const wanted = config.metricsPort > 0 || dashboard !== undefined;
  if (!wanted) return { markStopping: () => undefined, close: async () => undefined };

  const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
  const queues: Queue[] = [];
  const servers: ListeningServer[] = [];
  const close = async () => {
    await Promise.allSettled(servers.map((s) => s.close()));
    await Promise.allSettled(queues.map((q) => q.close()));
    redis.disconnect();
  };
  const open = (name: string) => {
    const queue = openQueue(name, redis, config);
    // Without a listener BullMQ prints connection errors to stderr; readiness already reports them.
    queue.on("error", (err) => logger.debug({ queue: name, err: err.message }, "operations queue error"));
    queues.push(queue);
    return queue;
  };
  let stopping = false;
  try {
    const cancelQueue = open(config.cancelQueue);
    let metrics: WorkerMetrics | undefined;
    if (config.metricsPort > 0) {
      // Each tenant's budget read on this connection, which fails fast when Redis is away.
      const budgets = new TenantBudgets(config, redis);
      metrics = new WorkerMetrics({
        tenants: () =>
          tenants()
            .list()
            .map((t) => ({ tenantId: t.tenantId, label: t.name, limiter: budgets.for(t) })),
        label: (tenantId) => (tenantId ? tenants().label(tenantId) : UNKNOWN_TENANT_LABEL),
        queue: cancelQueue,
        tokens: options.tokens,
        ping: () => redis.ping(),
      });
      const ready = async (): Promise<Readiness> => {
        if (stopping) return { ok: false, reason: "the worker is shutting down" };
        const credentials = credentialReadiness(tenants(), options.tokens.health);
        if (credentials && !credentials.ok) return credentials;
        const redisReady = await pingRedis(redis);
        return { ...redisReady, ...(credentials?.refused && { refused: credentials.refused }) };
      };
      servers.push(
        await startOpsServer({ host: config.metricsHost, port: config.metricsPort, logger, metrics, ready }),
      );
    }
    if (dashboard) {
      for (const name of config.resultsQueues) open(name);
      servers.push(await startDashboard(dashboard, queues, logger));
    }
    const httpPort = config.metricsPort > 0 ? servers[0]?.port : undefined;
    const dashboardPort = dashboard ? servers.at(-1)?.port : undefined;
    logger.info(
      {
        metrics: httpPort && `${config.metricsHost}:${httpPort}`,
        dashboard: dashboardPort && `${dashboard?.host}:${dashboardPort}`,
      },
      "operations endpoints listening",
    );
    return {
      metrics,
      httpPort,
      dashboardPort,
      markStopping: () => {
        stopping = true;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Ready when Redis answers PING in time; the reason says what an on-call engineer should check. */
async function pingRedis(redis: RedisConnection): Promise<Readiness> {
  try {
    await withTimeout(
      redis.ping(),
      READY_TIMEOUT_MS,
      () => new OperationalError(`no answer within ${READY_TIMEOUT_MS} ms`),
    );
    return { ok: true };
  } catch (err) {
    // ioredis messages name the state ("Connection is closed."), never the URL or its password.
    return { ok: false, reason: `Redis did not answer PING: ${errorMessage(err)}` };
  }
}
