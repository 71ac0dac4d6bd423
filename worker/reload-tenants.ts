import type { TenantDirectory, TenantSettings } from "../shared/config/tenant-directory.js";
import { errorMessage } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import type { TenantTokens } from "../shared/defender/tenant-tokens.js";

/**
 * Serves the tenants `load` reads (a worker's SIGHUP): true once they are served, with one log
 * line naming what changed. A file that does not load (the message names the entry and field) or
 * an unusable certificate is logged, and the tenants served so far are kept: a typo in the file
 * must not stop a running deployment.
 */
export function reloadTenantsFrom(
  load: () => TenantDirectory<TenantSettings>,
  tokens: Pick<TenantTokens, "replace">,
  logger: Logger,
): boolean {
  try {
    const directory = load();
    const changes = tokens.replace(directory);
    logger.info({ tenants: directory.size, tenantsFile: directory.file, ...changes }, "tenants reloaded");
    return true;
  } catch (err) {
    logger.error(
      { err: errorMessage(err) },
      `tenants not reloaded, the previous ones are kept: ${errorMessage(err)}`,
    );
    return false;
  }
}
