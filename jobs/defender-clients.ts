import type { Config } from "../shared/config/config.js";
import { loadTenants } from "../shared/config/tenants.js";
import { UsageError } from "../shared/core/errors.js";
import { createLogger, type Logger } from "../shared/core/logger.js";
import type { DefenderClient } from "../shared/defender/defender-client.js";
import { TenantSessions } from "../shared/defender/tenant-sessions.js";
import { TenantTokens } from "../shared/defender/tenant-tokens.js";
import type { RedisConnection } from "../shared/redis/connection.js";

/**
 * A producer's Defender clients, for filters and dry-run lookups only, built on first use: only
 * they need credentials (a UsageError names what is missing), each tenant's own, on its own
 * authority and API host, spending its own budget through the producer's Redis connection.
 */
export class DefenderClients {
  private sessions: TenantSessions | undefined;

  constructor(
    private readonly config: Config,
    private readonly redis: RedisConnection,
    private readonly options: { logger?: Logger; env?: Record<string, string | undefined> },
  ) {}

  client(tenantId: string): DefenderClient {
    const { config } = this;
    const logger = this.options.logger ?? createLogger("silent");
    this.sessions ??= new TenantSessions({
      config,
      tokens: new TenantTokens({
        config,
        directory: loadTenants({ config, env: this.options.env ?? {} }),
        logger,
      }),
      redis: this.redis,
      logger,
    });
    const session = this.sessions.sessionFor(tenantId);
    if (!session)
      throw new UsageError(`Tenant ${tenantId} has no credentials here; set AZURE_TENANT_ID to it.`);
    return session.client;
  }

  /** The tenant's client, or undefined when its credentials are not here (a dry run then looks nothing up). */
  clientIfCredentials(tenantId: string): DefenderClient | undefined {
    try {
      return this.client(tenantId);
    } catch (err) {
      if (err instanceof UsageError) return undefined;
      throw err;
    }
  }
}
