import type { AuditLog } from "../shared/redis/audit-log.js";

/** What the intake's audit hook hands over for each request that changed something, or was refused. */
export interface HttpAuditEntry {
  kind: "accepted" | "refused";
  method: string;
  route: string;
  status: number;
  requestedBy: string | null;
  /** The key's name, never the key. */
  apiKey: string | null;
  clientAddress: string;
  tenantId?: string;
  machineActionIds?: string[];
  jobId?: string;
  campaignId?: string;
  replayed?: boolean;
  reason?: string;
}

/**
 * The intake's audit port, writing to the audit trail: an accepted request becomes a `request`
 * record, a 4xx a `refusal`, with the route and HTTP status. (Open the intake's Producer with
 * `audit: false`, so a request is not recorded twice.)
 */
export function auditTrailSink(log: Pick<AuditLog, "append">): {
  record(entry: HttpAuditEntry): Promise<void>;
} {
  return {
    record: (e) =>
      log.append({
        kind: e.kind === "accepted" ? "request" : "refusal",
        requestedBy: e.requestedBy,
        apiKey: e.apiKey,
        client: e.clientAddress,
        tenantId: e.tenantId ?? null,
        machineActionIds: e.machineActionIds ?? [],
        ...(e.jobId ? { jobId: e.jobId } : {}),
        ...(e.campaignId ? { campaignId: e.campaignId } : {}),
        route: `${e.method} ${e.route}`,
        status: String(e.status),
        ...(e.replayed ? { reason: "Idempotency-Key replay: nothing added" } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
      }),
  };
}
