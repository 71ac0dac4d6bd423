/** The parts of a Defender session wired from a `Config`: a token provider, and the Redis limiter every process shares. */

import type { Config } from "../config/config.js";
import type { WorkerCredentials } from "../config/credentials.js";
import type { TenantInfo } from "../config/tenant-directory.js";
import type { Logger } from "../core/logger.js";
import type { RedisConnection } from "../redis/connection.js";
import { keyPrefix } from "../redis/queues.js";
import { RateLimiter } from "../redis/rate-limiter.js";
import type { CredentialHealth } from "./credential-health.js";
import { latestArrivalMs } from "./gated-agent.js";
import { TokenProvider } from "./token-provider.js";

/** A tenant's budget: its own from MDE_TENANTS_FILE, else the deployment's. */
export type BudgetSettings = Pick<TenantInfo, "rateLimits" | "campaignBudgetShare">;

/** The budget shared through `redis`, as every process configured alike must see it. */
export function createLimiter(
  config: Config,
  redis: RedisConnection,
  budget: BudgetSettings = config,
): RateLimiter {
  return new RateLimiter(redis, {
    prefix: keyPrefix(config),
    windows: budget.rateLimits,
    campaignShare: budget.campaignBudgetShare,
    reservationMs: latestArrivalMs(config.httpTimeoutMs),
  });
}

/** A tenant's app and credential, and where it gets tokens when not where the deployment does. */
export type TokenSettings = WorkerCredentials & Partial<Pick<TenantInfo, "authorityHost" | "tokenScope">>;

/**
 * The token provider of `credentials`; throws a UsageError naming the variable when the
 * certificate cannot be used, so build it before anything connects.
 */
export function createTokenProvider(
  config: Config,
  credentials: TokenSettings,
  logger: Logger,
  health?: CredentialHealth,
  checkHint?: string,
): TokenProvider {
  return new TokenProvider({
    credentials,
    authorityHost: credentials.authorityHost ?? config.authorityHost,
    scope: credentials.tokenScope ?? config.tokenScope,
    timeoutMs: config.httpTimeoutMs,
    logger,
    health,
    checkHint,
  });
}
