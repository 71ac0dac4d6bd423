import { collectDefaultMetrics, Registry } from "prom-client";
import { Producer } from "../jobs/producer.js";
import { loadTenantInfo, type TenantSource } from "../shared/config/tenants.js";
import { errorMessage } from "../shared/core/errors.js";
import { listenOn } from "../shared/core/listen.js";
import type { Logger } from "../shared/core/logger.js";
import { ApiKeyStore } from "../shared/redis/api-key-store.js";
import { AuditLog } from "../shared/redis/audit-log.js";
import { connectRedis } from "../shared/redis/connection.js";
import { IdempotencyStore } from "../shared/redis/idempotency-store.js";
import { keyPrefix } from "../shared/redis/queues.js";
import { buildIntakeApp } from "./app.js";
import { auditTrailSink } from "./audit-sink.js";
import { GuardedCallbackRegistry } from "./callbacks/guarded-registry.js";
import { startDeliveries } from "./callbacks/serve-deliveries.js";
import type { IntakeDeps } from "./deps.js";
import { ProducerBackend } from "./producer-backend.js";
import { tenantLookup } from "./tenant-lookup.js";

export interface RunningIntake {
  port: number;
  /** Reads MDE_TENANTS_FILE again (SIGHUP); a bad file is logged and the tenants in use are kept. */
  reloadTenants(): void;
  /** Stops taking connections, lets the requests in hand finish, then lets go of Redis. */
  close(): Promise<void>;
}

/**
 * `mde-cancel serve`: the intake on its own non-blocking Redis connection (a request fails fast
 * when Redis is away instead of hanging a playbook), listening on INTAKE_HOST:INTAKE_PORT, and
 * with INTAKE_WEBHOOK_SECRET the sender of the callbacks workers record. `overrides` swaps a
 * part: a failing backend or a recording audit sink in tests.
 */
export async function startIntake(
  source: TenantSource,
  logger: Logger,
  overrides: Partial<IntakeDeps> = {},
): Promise<RunningIntake> {
  const { config } = source;
  // Read before anything connects: a bad tenants file stops `serve` at start (exit 2).
  let tenants = loadTenantInfo(source);
  const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
  // What to let go of, newest first, when starting fails or `serve` stops.
  const opened: (() => Promise<void> | void)[] = [() => redis.disconnect()];
  const release = async () => {
    for (const close of opened.splice(0).reverse()) await close();
  };
  const prefix = keyPrefix(config);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  let app: Awaited<ReturnType<typeof buildIntakeApp>>;
  try {
    // The audit sink records each request with its key's name and address: not the Producer too.
    // The tenants serve keeps (and reloads): the Producer resolves requests against the same ones.
    const producer = await Producer.open(config, { logger, audit: false, tenants: () => tenants });
    opened.push(() => producer.close());
    const deliveries = await startDeliveries(config, logger, metrics);
    if (deliveries) opened.push(() => deliveries.close());
    app = await buildIntakeApp({
      backend: new ProducerBackend(producer, logger),
      apiKeys: new ApiKeyStore(redis, prefix),
      idempotency: new IdempotencyStore(redis, prefix),
      callbacks: new GuardedCallbackRegistry({
        secret: config.intakeWebhookSecret,
        allowedHosts: config.intakeCallbackHosts ?? [],
        callbacks: producer.callbacks,
      }),
      audit: auditTrailSink(new AuditLog(redis, prefix, config.auditRetentionMs)),
      tenants: tenantLookup(() => tenants),
      redis,
      keyPrefix: prefix,
      rateLimit: config.intakeRateLimit,
      publicUrl: config.intakePublicUrl,
      metrics,
      logger,
      ...overrides,
    });
    // Closed first: the requests in hand finish while deliveries and Redis are still there.
    opened.push(() => app.close());
  } catch (err) {
    await release();
    throw err;
  }
  let port: number;
  try {
    port = await listenOn(app, config.intakePort, config.intakeHost, {
      port: "INTAKE_PORT",
      host: "INTAKE_HOST",
    });
  } catch (err) {
    await release();
    throw err;
  }
  logger.info({ host: config.intakeHost, port }, "intake listening");
  let closing: Promise<void> | undefined;
  return {
    port,
    reloadTenants: () => {
      try {
        tenants = loadTenantInfo(source);
        logger.info({ tenants: tenants.size }, "tenants reloaded");
      } catch (err) {
        logger.error(
          { err: errorMessage(err) },
          "tenants file not reloaded; the previous tenants stay in use",
        );
      }
    },
    close: () => {
      closing ??= release().then(() => logger.info("intake stopped"));
      return closing;
    },
  };
}
