import type { Config, IntakeConfig } from "../shared/config/config.js";
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
import { QueueBackend } from "./queue-backend.js";
import { singleTenantDirectory } from "./tenant-directory.js";

export interface RunningIntake {
  port: number;
  /** Stops taking connections, lets the requests in hand finish, then lets go of Redis. */
  close(): Promise<void>;
}

/**
 * `mde-cancel serve`: the intake on its own non-blocking Redis connection (a request fails fast
 * when Redis is away instead of hanging a playbook), listening on INTAKE_HOST:INTAKE_PORT.
 * `overrides` swaps a part (the lead's Producer, the callbacks and audit rooms; tests).
 */
export async function startIntake(
  config: Config,
  intake: IntakeConfig,
  logger: Logger,
  overrides: Partial<IntakeDeps> = {},
): Promise<RunningIntake> {
  const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
  const prefix = keyPrefix(config);
  const own = overrides.backend ? undefined : new QueueBackend(config, redis, logger);
  const app = await buildIntakeApp({
    backend: overrides.backend ?? (own as QueueBackend),
    apiKeys: new ApiKeyStore(redis, prefix),
    idempotency: new IdempotencyStore(redis, prefix),
    callbacks: new PendingCallbackRegistry(intake.webhookSecret),
    audit: noAudit,
    tenants: singleTenantDirectory(config),
    redis,
    keyPrefix: prefix,
    rateLimit: intake.rateLimit,
    publicUrl: intake.publicUrl,
    logger,
    ...overrides,
  });
  const release = async () => {
    await app.close();
    await own?.close();
    redis.disconnect();
  };
  try {
    await app.listen({ port: intake.port, host: intake.host });
  } catch (err) {
    await release();
    throw new OperationalError(
      `cannot listen on ${intake.host}:${intake.port} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); set INTAKE_PORT to a free port or INTAKE_HOST to an address of this host.`,
    );
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : intake.port;
  logger.info({ host: intake.host, port }, "intake listening");
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= release().then(() => logger.info("intake stopped"));
      return closing;
    },
  };
}
