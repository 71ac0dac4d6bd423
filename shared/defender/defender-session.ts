/** A Defender client wired from a `Config`: its token provider and the Redis limiter every process shares. */

import type { Config } from "../config/config.js";
import type { WorkerCredentials } from "../config/credentials.js";
import type { Logger } from "../core/logger.js";
import type { RedisConnection } from "../redis/connection.js";
import { keyPrefix } from "../redis/queues.js";
import { RateLimiter } from "../redis/rate-limiter.js";
import type { CredentialHealth } from "./credential-health.js";
import { DefenderClient, type DefenderClientOptions } from "./defender-client.js";
import { TokenProvider } from "./token-provider.js";

/** Metrics hooks the client calls on each answer. */
export type DefenderHooks = Pick<DefenderClientOptions, "onResponse" | "onThrottled">;

export interface DefenderSession {
  tokens: TokenProvider;
  limiter: RateLimiter;
  client: DefenderClient;
}

/** The budget shared through `redis`, as every process configured alike must see it. */
export function createLimiter(config: Config, redis: RedisConnection): RateLimiter {
  return new RateLimiter(redis, {
    prefix: keyPrefix(config),
    windows: config.rateLimits,
    campaignShare: config.campaignBudgetShare,
  });
}

/**
 * The token provider of `credentials`; throws a UsageError naming the variable when the
 * certificate cannot be used, so build it before anything connects.
 */
export function createTokenProvider(
  config: Config,
  credentials: WorkerCredentials,
  logger: Logger,
  health?: CredentialHealth,
): TokenProvider {
  return new TokenProvider({
    credentials,
    authorityHost: config.authorityHost,
    scope: config.tokenScope,
    timeoutMs: config.httpTimeoutMs,
    logger,
    health,
  });
}

/** A Defender client with its token provider (built here from credentials, or given) and the budget shared through `redis`. */
export function createDefenderSession(
  config: Config,
  credentials: WorkerCredentials | TokenProvider,
  redis: RedisConnection,
  logger: Logger,
  hooks: DefenderHooks = {},
): DefenderSession {
  const tokens =
    credentials instanceof TokenProvider ? credentials : createTokenProvider(config, credentials, logger);
  const limiter = createLimiter(config, redis);
  const client = new DefenderClient({
    baseUrl: config.apiBaseUrl,
    timeoutMs: config.httpTimeoutMs,
    tokens,
    budget: limiter,
    logger,
    ...hooks,
  });
  return { tokens, limiter, client };
}
