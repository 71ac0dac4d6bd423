/** One line of the audit trail as the intake sees it: who asked what, and what was answered. */
export interface AuditEntry {
  at: string;
  /** `accepted` (a POST or DELETE that did its work, or replayed it) or `refused` (any 4xx). */
  kind: "accepted" | "refused";
  method: string;
  route: string;
  status: number;
  /** `api-key:<name>`; null when no valid key was given. */
  requestedBy: string | null;
  apiKey: string | null;
  clientAddress: string;
  tenantId?: string;
  machineActionIds?: string[];
  jobId?: string;
  campaignId?: string;
  /** An Idempotency-Key replay: nothing was added. */
  replayed?: boolean;
  /** For a refusal: the problem's detail. */
  reason?: string;
}

/** Where audit entries go; the audit room implements it. Failures are logged, never answered. */
export interface AuditSink {
  record(entry: AuditEntry): Promise<void>;
}

/** Until the audit room is wired in: records nothing. */
export const noAudit: AuditSink = { record: async () => undefined };
