import type { Config } from "../shared/config/config.js";
import { isGuid } from "../shared/contract/guid.js";

/**
 * The tenants this deployment serves, as a front door needs them: a request's `tenantId` (an id
 * or a name) resolved to an id. Without a tenants file that is AZURE_TENANT_ID alone; with one, a
 * two-line adapter over the tenants room's directory fits here.
 */
export interface TenantLookup {
  /** The tenant of requests naming none; undefined when there is no default. */
  readonly defaultTenantId: string | undefined;
  /** The tenant's id, or undefined when this deployment does not serve it. */
  resolve(idOrName: string): string | undefined;
}

export function singleTenantLookup(config: Pick<Config, "tenantId">): TenantLookup {
  return {
    defaultTenantId: config.tenantId,
    resolve: (idOrName) =>
      isGuid(idOrName) && idOrName.toLowerCase() === config.tenantId ? config.tenantId : undefined,
  };
}
