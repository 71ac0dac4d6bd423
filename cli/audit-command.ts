import { Command } from "commander";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { parseDuration } from "../shared/config/durations.js";
import { loadTenantInfo } from "../shared/config/tenants.js";
import { isGuid } from "../shared/contract/guid.js";
import { UsageError } from "../shared/core/errors.js";
import { AuditLog, type AuditRecord } from "../shared/redis/audit-log.js";
import { connectRedis } from "../shared/redis/connection.js";
import { keyPrefix } from "../shared/redis/queues.js";

export function auditCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("audit")
    .description(
      "Print the audit trail (requests, HTTP refusals, outcomes) kept for AUDIT_RETENTION, oldest first.",
    )
    .option("--since <duration>", "only the records of the last <int><s|m|h|d>, e.g. 24h")
    .option("--tenant <id|name>", "only the records of this tenant (a name from MDE_TENANTS_FILE, or a GUID)")
    .option("--json", "one JSON object per line, ready for a SIEM")
    .action(async (opts: { since?: string; tenant?: string; json?: boolean }) => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      const sinceMs = opts.since === undefined ? undefined : parseDuration(opts.since, ["s", "m", "h", "d"]);
      if (opts.since !== undefined && sinceMs === undefined)
        throw new UsageError(`--since ${JSON.stringify(opts.since)} must be <int><s|m|h|d>, e.g. 24h.`);
      // Any GUID is taken: records outlive a tenant's removal from the file.
      const tenantId =
        opts.tenant === undefined || isGuid(opts.tenant)
          ? opts.tenant
          : loadTenantInfo({ config, env: environment }).resolve(opts.tenant)?.tenantId;
      if (opts.tenant !== undefined && tenantId === undefined)
        throw new UsageError(
          `--tenant ${JSON.stringify(opts.tenant)} is neither a tenant GUID nor a tenant name in MDE_TENANTS_FILE.`,
        );
      const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
      try {
        const log = new AuditLog(redis, keyPrefix(config), config.auditRetentionMs);
        for await (const record of log.records({ sinceMs, tenantId }))
          process.stdout.write(`${opts.json ? JSON.stringify(record) : describe(record)}\n`);
      } finally {
        redis.disconnect();
      }
    });
}

/** One line per record: time, kind, what came of it, then the fields it has. */
function describe(r: AuditRecord): string {
  const ids = r.machineActionIds ?? [];
  const fields: [string, string | null | undefined][] = [
    ["tenant", r.tenantId],
    ["job", r.jobId],
    ["campaign", r.campaignId],
    ["route", r.route],
    ["actions", ids.length > 1 ? `${ids[0]} (+${ids.length - 1} more)` : ids[0]],
    ["by", r.requestedBy],
    ["key", r.apiKey],
    ["from", r.client],
    ["reason", r.reason],
  ];
  const what = [r.outcome, r.status].filter(Boolean).join(" ");
  return [r.at, r.kind, what || "-", ...fields.filter(([, v]) => v).map(([k, v]) => `${k}=${v}`)].join("  ");
}
