import { isGuid } from "../contract/guid.js";
import type { TenantDirectory, TenantInfo } from "./tenant-directory.js";

/** The tenant a front door's request stands for, or the sentence saying why it stands for none. */
export type TenantChoice =
  | { tenantId: string; problem?: undefined }
  | { tenantId?: undefined; problem: string };

/** How many names a message lists before "and N more". */
const LISTED = 5;

/**
 * What every front door (CLI `--tenant`, the library's requests, HTTP `tenantId`) does with the
 * tenant it is given: an id or a name becomes the tenant's id, nothing becomes the default tenant.
 * A tenant the deployment does not serve is refused here (exit 2, HTTP 400), before anything is
 * stored. A producer that knows no tenant at all (no MDE_TENANTS_FILE, no AZURE_TENANT_ID) takes
 * any GUID, as before tenants files existed; names need the file.
 *
 * @param subject how the caller names the field in its message: `--tenant`, `tenantId`
 */
export function resolveTenant(
  directory: TenantDirectory<TenantInfo>,
  named: string | undefined,
  subject = "tenantId",
): TenantChoice {
  if (named === undefined) {
    const fallback = directory.defaultTenant;
    if (fallback) return { tenantId: fallback.tenantId };
    return {
      problem: directory.file
        ? `no ${subject} given, and MDE_TENANTS_FILE ${directory.file} names no defaultTenant; name one of ${listed(directory)}`
        : `no ${subject} given; pass one, or set AZURE_TENANT_ID`,
    };
  }
  const found = directory.resolve(named);
  if (found) return { tenantId: found.tenantId };
  if (directory.size === 0 && isGuid(named)) return { tenantId: named.toLowerCase() };
  const shown = JSON.stringify(named.slice(0, 100));
  if (directory.file)
    return {
      problem: `${subject} ${shown} is not a tenant of MDE_TENANTS_FILE ${directory.file}; give the id or name of one of ${listed(directory)}`,
    };
  const only = directory.defaultTenant?.tenantId;
  return {
    problem: only
      ? `${subject} ${shown} is not served here: without MDE_TENANTS_FILE the only tenant is AZURE_TENANT_ID ${only}`
      : `${subject} ${shown} must be a tenant GUID (tenant names come from MDE_TENANTS_FILE, which is not set)`,
  };
}

/** `its tenants (contoso, fabrikam and 3 more)`. */
function listed(directory: TenantDirectory<TenantInfo>): string {
  const names = directory.list().map((t) => t.name);
  const more = names.length > LISTED ? ` and ${names.length - LISTED} more` : "";
  return `its tenants (${names.slice(0, LISTED).join(", ")}${more})`;
}
