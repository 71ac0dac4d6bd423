import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteOptions,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import type { RateWindow } from "../shared/config/durations.js";
import type { Logger } from "../shared/core/logger.js";
import type { ApiKeyStore } from "../shared/redis/api-key-store.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import type { IdempotencyStore } from "../shared/redis/idempotency-store.js";
import type { HttpAuditSink } from "./audit-sink.js";
import type { IntakeBackend } from "./backend.js";
import type { CallbackRegistry } from "./callback-registry.js";
import type { TenantLookup } from "./tenant-lookup.js";

/** Everything the intake is built from; `startIntake` makes them from the config, tests may swap any. */
export interface IntakeDeps {
  backend: IntakeBackend;
  apiKeys: Pick<ApiKeyStore, "verify">;
  idempotency: IdempotencyStore;
  callbacks: CallbackRegistry;
  audit: HttpAuditSink;
  tenants: TenantLookup;
  /** The per-key rate limit's counters and /readyz's PING. */
  redis: RedisConnection;
  /** Prefix of the intake's own Redis keys (the queue's hash slot). */
  keyPrefix: string;
  rateLimit: RateWindow;
  /** What GET /metrics exposes: callback attempts and the process. */
  metrics: Pick<Registry, "metrics" | "contentType">;
  /** INTAKE_PUBLIC_URL. */
  publicUrl?: string;
  logger: Logger;
  /** Told of every route as it is registered (the test that every route is documented). */
  onRoute?: (route: RouteOptions) => void;
}

/** The app as routes see it: zod schemas type each request and answer. */
export type IntakeApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
