import type { Config } from "../config/config.js";
import type { RedisConnection } from "../redis/connection.js";
import type { RateLimiter } from "../redis/rate-limiter.js";
import { type BudgetSettings, createLimiter } from "./defender-session.js";

/**
 * One RateLimiter per distinct budget (windows and campaign share), all on one Redis connection:
 * 200 tenants of MDE_TENANTS_FILE mean a handful of limiter objects, not 200 connections. Every
 * key carries the tenant's id, so tenants sharing a limiter object never share budget.
 */
export class TenantBudgets {
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(
    private readonly config: Config,
    private readonly redis: RedisConnection,
  ) {}

  /** The limiter holding `tenant`'s budget; the deployment's (MDE_RATE_LIMITS) without one. */
  for(tenant: BudgetSettings = this.config): RateLimiter {
    const windows = tenant.rateLimits.map((w) => `${w.limit}/${w.windowMs}`).join(",");
    const key = `${windows}|${tenant.campaignBudgetShare}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = createLimiter(this.config, this.redis, tenant);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }
}
