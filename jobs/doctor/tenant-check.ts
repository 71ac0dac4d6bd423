import type { Config } from "../../shared/config/config.js";
import type { TenantSettings } from "../../shared/config/tenant-directory.js";
import { errorMessage } from "../../shared/core/errors.js";
import type { Logger } from "../../shared/core/logger.js";
import { adminConsentUrl } from "../../shared/defender/admin-consent.js";
import { DefenderClient } from "../../shared/defender/defender-client.js";
import { latestArrivalMs } from "../../shared/defender/gated-agent.js";
import { TokenProvider } from "../../shared/defender/token-provider.js";
import type { RedisConnection } from "../../shared/redis/connection.js";
import { keyPrefix } from "../../shared/redis/queues.js";
import { RateLimiter } from "../../shared/redis/rate-limiter.js";
import { type ListCheck, skipped, type TenantReport, type TokenCheck } from "./doctor-report.js";
import { checkList } from "./list-check.js";
import { checkRoles, checkToken, consentTarget } from "./token-check.js";
import { WaitingBudget } from "./waiting-budget.js";

export interface TenantCheckDeps {
  config: Config;
  /** Undefined when Redis did not answer: then no list call, since no budget can be taken. */
  redis: RedisConnection | undefined;
  logger: Logger;
  /** How long the list call may wait for the tenant's budget. */
  listBudgetWaitMs: number;
}

/**
 * One tenant, built from its settings alone (its own msal client, authority, API host and
 * budget, as a worker would hold them): a token, the roles in it, one list call.
 */
export async function checkTenant(tenant: TenantSettings, deps: TenantCheckDeps): Promise<TenantReport> {
  const { config, redis, logger } = deps;
  const where = {
    tenantId: tenant.tenantId,
    name: tenant.name,
    authorityHost: tenant.authorityHost,
    apiBaseUrl: tenant.apiBaseUrl,
  };
  const noToken = (token: TokenCheck): TenantReport => {
    const roles = { ...skipped("not read (no token)"), roles: [], cancel: [], read: [], missing: [] };
    return { ...where, ok: false, token, roles, list: skipped("not tried (no token)") };
  };
  let tokens: TokenProvider;
  try {
    tokens = new TokenProvider({
      credentials: tenant,
      authorityHost: tenant.authorityHost,
      scope: tenant.tokenScope,
      timeoutMs: config.httpTimeoutMs,
    });
  } catch (err) {
    // An unusable certificate: the worker would refuse to start; here it is this tenant's finding.
    return noToken({ status: "failed", summary: "bad certificate", fix: errorMessage(err) });
  }
  const { check: token, accessToken } = await checkToken(tokens, tenant);
  if (accessToken === undefined) return noToken(token);
  const roles = checkRoles(accessToken, tenant);
  let list: ListCheck = skipped("not tried (Redis down)");
  if (redis) {
    const budget = new WaitingBudget(
      new RateLimiter(redis, {
        prefix: keyPrefix(config),
        windows: tenant.rateLimits,
        campaignShare: tenant.campaignBudgetShare,
        reservationMs: latestArrivalMs(config.httpTimeoutMs),
      }),
      deps.listBudgetWaitMs,
    );
    const client = new DefenderClient({
      baseUrl: tenant.apiBaseUrl,
      timeoutMs: config.httpTimeoutMs,
      tokens,
      budget,
      logger,
    });
    list = await checkList(client, budget, tenant.tenantId, adminConsentUrl(consentTarget(tenant)));
  }
  const ok = [token, roles, list].every((check) => check.status === "ok");
  return { ...where, ok, token, roles, list };
}
