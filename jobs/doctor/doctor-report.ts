/** What `doctor` found: one verdict per check, each with what a person should do about it. */

/** `skipped`: an earlier check failed, so this one could not run. */
export type CheckStatus = "ok" | "failed" | "skipped";

export interface Check {
  status: CheckStatus;
  /** A few words for a table cell. */
  summary: string;
  /** One sentence saying what to do, when there is something to do. */
  fix?: string;
  /** Where an administrator of the tenant grants consent, when that is the fix. */
  consentUrl?: string;
}

export interface TokenCheck extends Check {
  /** The AADSTS code (or msal's code) that refused the token. */
  code?: string;
  meaning?: string;
}

export interface RolesCheck extends Check {
  /** Every application permission the token carries. */
  roles: string[];
  /** The cancel permissions among them (one is enough). */
  cancel: string[];
  /** Machine.Read.All or Machine.ReadWrite.All, if there. */
  read: string[];
  /** What is missing, in words. */
  missing: string[];
}

export interface ListCheck extends Check {
  /** Defender's answer; absent when no call was made. */
  httpStatus?: number;
  /** `budget`: the tenant's list budget stayed spent past the wait; `paused`: a 429 pause holds it. */
  budget?: "budget" | "paused";
  /** How long until the list budget frees, when it was exhausted. */
  budgetFreeInMs?: number;
}

export interface TenantReport {
  tenantId: string;
  name: string;
  authorityHost: string;
  apiBaseUrl: string;
  ok: boolean;
  token: TokenCheck;
  roles: RolesCheck;
  list: ListCheck;
}

export interface RedisReport extends Check {
  /** REDIS_URL without its password. */
  url: string;
  /** Undefined when Redis did not answer or refuses CONFIG (managed services often do). */
  maxmemoryPolicy?: string;
}

export interface DoctorReport {
  /** True when every tenant and Redis are well: `doctor` exits 0, else 1. */
  ok: boolean;
  tenants: TenantReport[];
  redis: RedisReport;
}

export function skipped(summary: string): Check {
  return { status: "skipped", summary };
}
