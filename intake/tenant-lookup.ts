import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";

/**
 * The tenants this deployment serves, as a front door needs them: a request's `tenantId` (an id
 * or a name) resolved to an id, and the tenant of requests naming none.
 */
export interface TenantLookup {
  /** The tenant of requests naming none; undefined when there is no default. */
  readonly defaultTenantId: string | undefined;
  /** The tenant's id, or undefined when this deployment does not serve it. */
  resolve(idOrName: string): string | undefined;
}

/**
 * The lookup over the directory `current()` returns (MDE_TENANTS_FILE, or AZURE_TENANT_ID alone),
 * read on every request so that a directory reloaded on SIGHUP takes effect at once.
 */
export function tenantLookup(current: () => TenantDirectory<TenantInfo>): TenantLookup {
  return {
    get defaultTenantId() {
      return current().defaultTenant?.tenantId;
    },
    resolve: (idOrName) => current().resolve(idOrName)?.tenantId,
  };
}
