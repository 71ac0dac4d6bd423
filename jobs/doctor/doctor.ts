/**
 * `mde-cancel doctor`: per tenant a token, its roles and one list call; plus Redis and its
 * eviction policy. It builds what it needs per tenant from the directory's settings.
 */
import type { Config } from "../../shared/config/config.js";
import type { TenantSettings } from "../../shared/config/tenant-directory.js";
import { createLogger, type Logger } from "../../shared/core/logger.js";
import type { DoctorReport, TenantReport } from "./doctor-report.js";
import { checkRedis } from "./redis-check.js";
import { checkTenant } from "./tenant-check.js";

/** The contract: doctor waits at most 10 s for list budget, then reports it exhausted. */
export const LIST_BUDGET_WAIT_MS = 10_000;
/** Tenants checked at once: hundreds of tenants finish in minutes without a burst at Entra ID. */
const CONCURRENCY = 8;

export interface DoctorOptions {
  config: Config;
  /** The tenants to check, in the order to report them. */
  tenants: readonly TenantSettings[];
  /** Default silent: the command prints its own report. */
  logger?: Logger;
  /** Default LIST_BUDGET_WAIT_MS. */
  listBudgetWaitMs?: number;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { report: redisReport, redis } = await checkRedis(options.config);
  try {
    const deps = {
      config: options.config,
      redis,
      logger: options.logger ?? createLogger("silent"),
      listBudgetWaitMs: options.listBudgetWaitMs ?? LIST_BUDGET_WAIT_MS,
    };
    const tenants: TenantReport[] = new Array(options.tenants.length);
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < options.tenants.length; i = next++)
        tenants[i] = await checkTenant(options.tenants[i] as TenantSettings, deps);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, options.tenants.length) }, lane));
    const ok = redisReport.status === "ok" && tenants.every((t) => t.ok);
    return { ok, tenants, redis: redisReport };
  } finally {
    redis?.disconnect();
  }
}
