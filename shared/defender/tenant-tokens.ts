import type { Config } from "../config/config.js";
import { TenantDirectory, type TenantSettings } from "../config/tenant-directory.js";
import type { Logger } from "../core/logger.js";
import { CredentialHealth } from "./credential-health.js";
import { createTokenProvider } from "./defender-session.js";
import type { TokenProvider } from "./token-provider.js";

/** What a new directory changed, by tenant name, for the reload's log line. */
export interface TenantChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface TenantTokensOptions {
  config: Config;
  directory: TenantDirectory<TenantSettings>;
  logger: Logger;
  /** What Entra ID last said of each tenant's credential; default a new one. */
  health?: CredentialHealth;
}

/**
 * The tenants a process serves, each with its own token provider: its own msal client on its own
 * authority (never /common), with its own app, credential and scope. Built with the directory, so
 * an unusable certificate stops a worker at start (before Redis) or fails a reload. `replace`
 * swaps the directory (SIGHUP), keeping the provider, and so the token, of every tenant whose
 * credential did not change.
 */
export class TenantTokens {
  private current = new TenantDirectory<TenantSettings>([], undefined);
  private providers = new Map<string, { key: string; provider: TokenProvider }>();
  /** Tokens acquired by providers a reload replaced: the metric's counter never goes back. */
  private retiredAcquired = 0;
  readonly health: CredentialHealth;

  /** Throws a UsageError naming the setting when a tenant's certificate cannot be used. */
  constructor(private readonly options: TenantTokensOptions) {
    this.health = options.health ?? new CredentialHealth();
    this.replace(options.directory);
  }

  /** The tenants served now. */
  get directory(): TenantDirectory<TenantSettings> {
    return this.current;
  }

  /** Access tokens acquired from Entra ID for every tenant (not served from msal's cache). */
  get acquired(): number {
    let sum = this.retiredAcquired;
    for (const { provider } of this.providers.values()) sum += provider.acquired;
    return sum;
  }

  /** The token provider of a tenant served now, by id or name. */
  tokensFor(tenantIdOrName: string): TokenProvider | undefined {
    const tenant = this.current.resolve(tenantIdOrName);
    return tenant && this.providers.get(tenant.tenantId)?.provider;
  }

  /**
   * Serves `directory` from now on. Throws a UsageError, and keeps the tenants it had, when a
   * tenant's certificate cannot be used. A tenant whose credential changed is tried at once, even
   * if the old one was refused a moment ago.
   */
  replace(directory: TenantDirectory<TenantSettings>): TenantChanges {
    const providers = new Map<string, { key: string; provider: TokenProvider }>();
    const changes: TenantChanges = { added: [], removed: [], changed: [] };
    for (const tenant of directory.list()) {
      const key = tokenKey(tenant);
      const held = this.providers.get(tenant.tenantId);
      providers.set(
        tenant.tenantId,
        held?.key === key ? held : { key, provider: this.build(tenant, directory) },
      );
      const before = this.current.resolve(tenant.tenantId);
      if (!before) changes.added.push(tenant.name);
      else if (held?.key !== key || otherKey(before) !== otherKey(tenant)) changes.changed.push(tenant.name);
    }
    for (const [tenantId, held] of this.providers) {
      if (providers.get(tenantId) === held) continue;
      this.retiredAcquired += held.provider.acquired;
      this.health.forget(tenantId);
      if (!directory.resolve(tenantId)) changes.removed.push(this.current.label(tenantId));
    }
    this.providers = providers;
    this.current = directory;
    return changes;
  }

  /** Abandons every token request, now and later (the process is stopping). */
  close(): void {
    for (const { provider } of this.providers.values()) provider.close();
  }

  private build(tenant: TenantSettings, directory: TenantDirectory<TenantSettings>): TokenProvider {
    const { config, logger } = this.options;
    // Without a file the variables are the tenant's settings, and the provider's own hint names them.
    const hint = directory.file
      ? `tenant ${JSON.stringify(tenant.name)} of MDE_TENANTS_FILE (its id, authorityHost, clientId or AZURE_CLIENT_ID, and its credential or the deployment's)`
      : undefined;
    return createTokenProvider(config, tenant, logger.child({ tenant: tenant.name }), this.health, hint);
  }
}

/** What a token provider is built from; a change makes a new one (a rotated secret, another cloud). */
function tokenKey(t: TenantSettings): string {
  const c = t.credential;
  const credential = c.kind === "secret" ? [c.kind, c.secret] : [c.kind, c.path, c.password];
  return JSON.stringify([t.clientId, t.authorityHost, t.tokenScope, ...credential]);
}

/** The rest of a tenant's settings: its API host and budget. */
function otherKey(t: TenantSettings): string {
  return JSON.stringify([t.apiBaseUrl, t.rateLimits, t.campaignBudgetShare]);
}
