import { Producer } from "../jobs/producer.js";
import type { Config } from "../shared/config/config.js";
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
import { singleTenantLookup } from "./tenant-lookup.js";

export interface RunningIntake {
  port: number;
  /** Stops taking connections, lets the requests in hand finish, then lets go of Redis. */
  close(): Promise<void>;
}

/**
 * `mde-cancel serve`: the intake on its own non-blocking Redis connection (a request fails fast
 * when Redis is away instead of hanging a playbook), listening on INTAKE_HOST:INTAKE_PORT.
 * `overrides` swaps a part: the callbacks and audit rooms once wired, a failing backend in tests.
 */
export async function startIntake(
  config: Config,
  logger: Logger,
  overrides: Partial<IntakeDeps> = {},
): Promise<RunningIntake> {
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
    tenants: singleTenantLookup(config),
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
    close: () => {
      closing ??= release().then(() => logger.info("intake stopped"));
      return closing;
    },
  };
}
