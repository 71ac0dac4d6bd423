import { Producer } from "../jobs/producer.js";
import { loadTenantInfo, type TenantSource } from "../shared/config/tenants.js";
import { errorMessage, OperationalError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import { ApiKeyStore } from "../shared/redis/api-key-store.js";
import { connectRedis } from "../shared/redis/connection.js";
import { IdempotencyStore } from "../shared/redis/idempotency-store.js";
import { keyPrefix } from "../shared/redis/queues.js";
import { buildIntakeApp } from "./app.js";
import { noAudit } from "./audit-sink.js";
import { PendingCallbackRegistry } from "./callback-registry.js";
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
 * when Redis is away instead of hanging a playbook), listening on INTAKE_HOST:INTAKE_PORT.
 * `overrides` swaps a part: the callbacks and audit rooms once wired, a failing backend in tests.
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
  const producer = await Producer.open(config, { logger }).catch((err) => {
    redis.disconnect();
    throw err;
  });
  const prefix = keyPrefix(config);
  const app = await buildIntakeApp({
    backend: new ProducerBackend(producer, logger),
    apiKeys: new ApiKeyStore(redis, prefix),
    idempotency: new IdempotencyStore(redis, prefix),
    callbacks: new PendingCallbackRegistry(config.intakeWebhookSecret),
    audit: noAudit,
    tenants: tenantLookup(() => tenants),
    redis,
    keyPrefix: prefix,
    rateLimit: config.intakeRateLimit,
    publicUrl: config.intakePublicUrl,
    logger,
    ...overrides,
  });
  const release = async () => {
    await app.close();
    await producer.close();
    redis.disconnect();
  };
  try {
    await app.listen({ port: config.intakePort, host: config.intakeHost });
  } catch (err) {
    await release();
    throw new OperationalError(
      `cannot listen on ${config.intakeHost}:${config.intakePort} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); set INTAKE_PORT to a free port or INTAKE_HOST to an address of this host.`,
    );
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.intakePort;
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
