import type { CancelResult } from "../../shared/contract/cancel-result.js";

/** A result as the worker would publish it for job `jobId`: `cancelled`, fresh ids, `overrides` on top. */
export function sampleResult(jobId: string, overrides: Partial<CancelResult> = {}): CancelResult {
  return {
    jobId,
    machineActionId: crypto.randomUUID(),
    tenantId: crypto.randomUUID(),
    outcome: "cancelled",
    status: "Cancelled",
    action: null,
    error: null,
    attempts: 1,
    comment: "stop",
    correlationId: null,
    campaignId: null,
    requestedBy: null,
    enqueuedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    ...overrides,
  };
}
