import type { Config } from "../shared/config/config.js";
import { resolveTenant } from "../shared/config/resolve-tenant.js";
import { loadTenantInfo } from "../shared/config/tenants.js";
import { UsageError } from "../shared/core/errors.js";

/**
 * `--tenant <id|name>` as the tenant's id, checked against MDE_TENANTS_FILE (or AZURE_TENANT_ID)
 * before Redis is asked: a tenant this deployment does not serve exits 2 naming it. Without the
 * option: the default tenant when `orDefault` (enqueue, campaign), else undefined (every tenant).
 */
export function tenantOption(
  config: Config,
  env: Record<string, string | undefined>,
  value: string | undefined,
  orDefault: boolean,
): string | undefined {
  if (value === undefined && !orDefault) return undefined;
  const choice = resolveTenant(loadTenantInfo({ config, env }), value, "--tenant");
  if (choice.problem !== undefined) throw new UsageError(`${choice.problem}.`);
  return choice.tenantId;
}
