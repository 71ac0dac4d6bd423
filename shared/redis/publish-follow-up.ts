import type { Config } from "../config/config.js";
import type { CancelResult } from "../contract/cancel-result.js";
import { type AuditEntry, AuditLog } from "./audit-log.js";
import { CallbackStore } from "./callback-store.js";
import type { FinishedCampaign } from "./campaign-store.js";
import type { RedisConnection } from "./connection.js";
import { keyPrefix } from "./queues.js";

/**
 * What follows a published result: the callback delivery of a job (or its finished campaign)
 * that registered one, for `serve` to send, and the outcome's audit record. Deliveries are
 * recorded idempotently; the audit is append-only, so a result published again after a crash
 * may show its outcome twice there, as subscribers may see the result twice.
 */
export class PublishFollowUp {
  private readonly callbacks: CallbackStore;
  private readonly audit: AuditLog;

  constructor(
    connection: RedisConnection,
    config: Pick<Config, "queuePrefix" | "cancelQueue" | "resultRetentionMs" | "auditRetentionMs">,
  ) {
    this.callbacks = new CallbackStore(connection, config);
    this.audit = new AuditLog(connection, keyPrefix(config), config.auditRetentionMs);
  }

  async after(result: CancelResult, campaign: FinishedCampaign | undefined): Promise<void> {
    await Promise.all([
      this.callbacks.recordResult(result),
      campaign && this.callbacks.recordCampaign(campaign),
      this.audit.append(outcomeEntry(result)),
    ]);
  }

  close(): Promise<void> {
    return this.callbacks.close();
  }
}

export function outcomeEntry(result: CancelResult): AuditEntry {
  return {
    kind: "outcome",
    requestedBy: result.requestedBy,
    tenantId: result.tenantId,
    machineActionIds: result.machineActionId ? [result.machineActionId] : [],
    jobId: result.jobId,
    ...(result.campaignId ? { campaignId: result.campaignId } : {}),
    status: result.status,
    outcome: result.outcome,
    ...(result.error ? { reason: `${result.error.code}: ${result.error.message}` } : {}),
  };
}
