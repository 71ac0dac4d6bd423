import type { RateWindow } from "./durations.js";

/** The label of anything naming no known tenant, in metrics and status (never free text). */
export const UNKNOWN_TENANT_LABEL = "unknown";

/** What every command may know of a tenant: where it lives and its budget, no credential. */
export interface TenantInfo {
  /** Lower-case GUID: what jobs store and Redis keys carry. */
  tenantId: string;
  /** From the tenants file; without a file, the id. The metrics' `tenant` label. */
  name: string;
  /** Entra authority host (origin), e.g. `https://login.microsoftonline.us` for GCC High. */
  authorityHost: string;
  /** Defender API root, without trailing slash. */
  apiBaseUrl: string;
  tokenScope: string;
  /** This tenant's budget for each endpoint. */
  rateLimits: RateWindow[];
  /** Share of every window this tenant's campaigns may use. */
  campaignBudgetShare: number;
}

/** Exactly one credential. A secret is not enumerable: logging or serializing a tenant never shows it. */
export type TenantCredential =
  | { kind: "secret"; secret: string }
  | { kind: "certificate"; path: string; password?: string };

/** A tenant as a worker (or `doctor`) needs it: `TenantInfo` plus its app and credential. */
export interface TenantSettings extends TenantInfo {
  clientId: string;
  credential: TenantCredential;
}

/**
 * The tenants one deployment serves, as loaded once (loadTenants in tenants.ts). Immutable: a
 * reload builds a new directory, so a caller swaps it whole or keeps the previous one.
 */
export class TenantDirectory<T extends TenantInfo = TenantSettings> {
  private readonly byId = new Map<string, T>();
  private readonly byName = new Map<string, T>();

  /**
   * @param tenants in the file's order
   * @param defaultTenant the tenant of jobs and commands naming none; undefined when the file
   *   lists several and names none of them (then a tenant must always be named)
   * @param file the tenants file these came from; undefined for the AZURE_TENANT_ID fallback
   */
  constructor(
    private readonly tenants: readonly T[],
    readonly defaultTenant: T | undefined,
    readonly file?: string,
  ) {
    for (const tenant of tenants) {
      this.byId.set(tenant.tenantId, tenant);
      this.byName.set(tenant.name.toLowerCase(), tenant);
    }
  }

  /** The tenant with this id (any case) or name (any case), or undefined. */
  resolve(idOrName: string): T | undefined {
    const key = idOrName.toLowerCase();
    return this.byId.get(key) ?? this.byName.get(key);
  }

  list(): readonly T[] {
    return this.tenants;
  }

  get size(): number {
    return this.tenants.length;
  }

  /** The metrics' `tenant` label: the name from the file, the id without a file, else "unknown". */
  label(tenantId: string): string {
    return this.resolve(tenantId)?.name ?? UNKNOWN_TENANT_LABEL;
  }
}
