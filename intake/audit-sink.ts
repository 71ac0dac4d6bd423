import type { AuditLog } from "../shared/redis/audit-log.js";

/** One line of the audit trail as the intake sees it: who asked what, and what was answered. */
export interface HttpAuditEntry {
  /** `accepted` (a POST or DELETE that did its work, or replayed it) or `refused` (any 4xx). */
  kind: "accepted" | "refused";
  method: string;
  route: string;
  status: number;
  /** `api-key:<name>`; null when no valid key was given. */
  requestedBy: string | null;
  /** The key's name, never the key. */
  apiKey: string | null;
  clientAddress: string;
  tenantId?: string;
  machineActionIds?: string[];
  jobId?: string;
  campaignId?: string;
  /** An Idempotency-Key replay: nothing was added. */
  replayed?: boolean;
  /** For a refusal: the problem's detail; for a dry run: that nothing was enqueued. */
  reason?: string;
}

/** Where the intake's audit entries go. Failures are logged, never answered. */
export interface HttpAuditSink {
  record(entry: HttpAuditEntry): Promise<void>;
}

/**
 * The intake's audit port, writing to the audit trail: an accepted request becomes a `request`
 * record, a 4xx a `refusal`, with the route and HTTP status. `serve` opens its Producer with
 * `audit: false`, so each request is recorded once, here, with the key's name and the address.
 */
export function auditTrailSink(log: Pick<AuditLog, "append">): HttpAuditSink {
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
