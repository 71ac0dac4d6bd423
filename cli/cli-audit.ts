import { hostname, userInfo } from "node:os";
import type { Config } from "../shared/config/config.js";
import { AuditLog, type AuditSink } from "../shared/redis/audit-log.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { keyPrefix } from "../shared/redis/queues.js";

/** Where a command's requests go in the audit trail, recorded as coming from `cli:<user>@<host>`. */
export function cliAudit(redis: RedisConnection, config: Config): AuditSink {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // A container may run under a uid without a passwd entry; the host still says where.
  }
  return new AuditLog(redis, keyPrefix(config), config.auditRetentionMs).as({
    client: `cli:${user}@${hostname()}`,
  });
}
