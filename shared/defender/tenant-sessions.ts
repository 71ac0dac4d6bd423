import type { Config } from "../config/config.js";
import type { TenantDirectory, TenantSettings } from "../config/tenant-directory.js";
import type { Logger } from "../core/logger.js";
import type { RedisConnection } from "../redis/connection.js";
import type { RateLimiter } from "../redis/rate-limiter.js";
import { DefenderClient } from "./defender-client.js";
import type { Endpoint } from "./endpoints.js";
import { TenantBudgets } from "./tenant-budgets.js";
import type { TenantTokens } from "./tenant-tokens.js";
import type { TokenProvider } from "./token-provider.js";

/** Everything one tenant's calls go through: its token, its API host, its budget. */
export interface TenantSession {
  tenant: TenantSettings;
  tokens: TokenProvider;
  limiter: RateLimiter;
  client: DefenderClient;
}

/** Metrics hooks, told the tenant of each answer; read at call time, so they may be set late. */
export interface TenantHooks {
  onResponse?(endpoint: Endpoint, status: number | "error", tenantId: string): void;
  onThrottled?(endpoint: Endpoint, tenantId: string): void;
}

export interface TenantSessionsOptions {
  config: Config;
  tokens: TenantTokens;
  /** The one connection every tenant's limiter uses. */
  redis: RedisConnection;
  logger: Logger;
  hooks?: TenantHooks;
}

/**
 * The Defender side of every tenant served (TenantTokens says which): its own DefenderClient on
 * its own API host, with its own token provider and the limiter of its own budget (one limiter
 * per distinct budget, all on one Redis connection). A client is built on the tenant's first call
 * and again when a reload changed its token provider, host or budget.
 */
export class TenantSessions {
  private readonly clients = new Map<string, { key: unknown[]; client: DefenderClient }>();
  private readonly budgets: TenantBudgets;
  private readonly hooks: TenantHooks;

  constructor(private readonly options: TenantSessionsOptions) {
    this.budgets = new TenantBudgets(options.config, options.redis);
    this.hooks = options.hooks ?? {};
  }

  /** The tenants served now. */
  get directory(): TenantDirectory<TenantSettings> {
    return this.options.tokens.directory;
  }

  /** The session of a tenant served now (by id or name); undefined for any other. */
  sessionFor(tenantIdOrName: string): TenantSession | undefined {
    const tenant = this.directory.resolve(tenantIdOrName);
    const tokens = tenant && this.options.tokens.tokensFor(tenant.tenantId);
    if (!tenant || !tokens) return undefined;
    const limiter = this.budgets.for(tenant);
    const key = [tokens, limiter, tenant.apiBaseUrl];
    let held = this.clients.get(tenant.tenantId);
    if (!held || held.key.some((part, i) => part !== key[i])) {
      held = { key, client: this.client(tenant, tokens, limiter) };
      this.clients.set(tenant.tenantId, held);
    }
    return { tenant, tokens, limiter, client: held.client };
  }

  private client(tenant: TenantSettings, tokens: TokenProvider, limiter: RateLimiter): DefenderClient {
    const { tenantId } = tenant;
    return new DefenderClient({
      baseUrl: tenant.apiBaseUrl,
      timeoutMs: this.options.config.httpTimeoutMs,
      tokens,
      budget: limiter,
      logger: this.options.logger.child({ tenant: tenant.name }),
      onResponse: (endpoint, status) => this.hooks.onResponse?.(endpoint, status, tenantId),
      onThrottled: (endpoint) => this.hooks.onThrottled?.(endpoint, tenantId),
    });
  }
}
