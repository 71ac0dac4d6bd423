import type { FastifyRequest } from "fastify";
import { apiKeyOf } from "./auth.js";
import { fieldProblem, IntakeProblem } from "./problem.js";
import type { TenantLookup } from "./tenant-lookup.js";

/**
 * The tenant a request acts on: the one it names (id or name) or the default. 400 naming
 * tenantId when this deployment does not serve it; 403 when the key may not act on it.
 */
export function actingTenant(
  request: FastifyRequest,
  tenants: TenantLookup,
  named: string | undefined,
): string {
  const tenantId = named === undefined ? tenants.defaultTenantId : tenants.resolve(named);
  if (!tenantId)
    throw named === undefined
      ? fieldProblem("tenantId", "is required: this service has no default tenant")
      : fieldProblem("tenantId", `${JSON.stringify(named)} is not a tenant this service serves`);
  const key = apiKeyOf(request);
  if (key.tenants.length > 0 && !key.tenants.includes(tenantId))
    throw new IntakeProblem(403, `API key ${key.name} may not act on tenant ${tenantId}.`);
  return tenantId;
}

/** A tenant-limited key sees nothing of other tenants: their jobs and campaigns are 404 to it. */
export function visible(request: FastifyRequest, tenantId: string | null | undefined): boolean {
  const key = apiKeyOf(request);
  return (
    key.tenants.length === 0 ||
    (tenantId !== null && tenantId !== undefined && key.tenants.includes(tenantId))
  );
}
