/** The result the contract promises, one per cancel job, and the only ways to build one. */

import { type CancelJob, parseCancelJob } from "./cancel-job.js";
import { isGuid } from "./guid.js";

export const TERMINAL_STATUSES = ["Succeeded", "Failed", "Cancelled", "TimeOut"] as const;

export function isTerminal(status: string | null | undefined): boolean {
  return (TERMINAL_STATUSES as readonly (string | null | undefined)[]).includes(status);
}

export const OUTCOMES = ["cancelled", "already_terminal", "not_found", "failed"] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** An outcome the rule reached by itself; `failed` always carries an error. */
export type FinishedOutcome = Exclude<Outcome, "failed">;

export const ERROR_CODES = [
  "invalid_job",
  "unauthorized",
  "forbidden",
  "throttled",
  "upstream",
  "bad_request",
  "unknown_tenant",
  /** `campaign --abort` finished the job before it sent its cancel: Defender was not asked. */
  "aborted",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ResultError {
  code: ErrorCode;
  message: string;
  httpStatus?: number;
  target?: string;
}

/** The MachineAction entity as Defender returns it; kept whole for subscribers. */
export type MachineAction = { id: string; status: string; type?: string } & Record<string, unknown>;

export interface CancelResult {
  jobId: string;
  machineActionId: string | null;
  tenantId: string | null;
  outcome: Outcome;
  status: string | null;
  action: MachineAction | null;
  error: ResultError | null;
  attempts: number;
  comment: string | null;
  correlationId: string | null;
  campaignId: string | null;
  requestedBy: string | null;
  enqueuedAt: string;
  finishedAt: string;
}

export interface JobRef {
  jobId: string;
  data: unknown;
  enqueuedAt: number;
}

/** A result the rule reached (anything but `failed`). */
export function finishedResult(
  ref: JobRef,
  job: CancelJob & { tenantId: string },
  attempts: number,
  outcome: FinishedOutcome,
  action: MachineAction | null,
): CancelResult {
  return build(ref, job, attempts, outcome, action, null);
}

/**
 * A `failed` result. Without a valid job (invalid_job, or BullMQ gave up on it) only the fields
 * that are safely GUIDs are echoed: hostile payloads do not travel on to subscribers.
 */
export function failedResult(
  ref: JobRef,
  attempts: number,
  error: ResultError,
  job?: CancelJob,
  action: MachineAction | null = null,
): CancelResult {
  return build(ref, job ?? salvage(ref.data), attempts, "failed", action, error);
}

/**
 * The result of a job BullMQ itself gave up on (stalled too often, Redis broke mid-job): the
 * result the worker had decided when there is one, else `failed/upstream` with BullMQ's reason.
 * A valid job naming no tenant is `defaultTenantId`'s, as the worker would have said.
 */
export function gaveUpResult(
  ref: JobRef,
  attempts: number,
  reason: string,
  decided?: CancelResult,
  defaultTenantId?: string,
): CancelResult {
  if (decided) return decided;
  const parsed = parseCancelJob(ref.data);
  const job =
    parsed.ok && defaultTenantId !== undefined
      ? { ...parsed.job, tenantId: parsed.job.tenantId ?? defaultTenantId }
      : undefined;
  const error = { code: "upstream", message: `the job could not be processed: ${reason}` } as const;
  return failedResult(ref, attempts, error, job);
}

function build(
  ref: JobRef,
  job: Partial<CancelJob>,
  attempts: number,
  outcome: Outcome,
  action: MachineAction | null,
  error: ResultError | null,
): CancelResult {
  return {
    jobId: ref.jobId,
    machineActionId: job.machineActionId ?? null,
    tenantId: job.tenantId ?? null,
    outcome,
    status: action?.status ?? null,
    action,
    error,
    attempts,
    comment: job.comment ?? null,
    correlationId: job.correlationId ?? null,
    campaignId: job.campaignId ?? null,
    requestedBy: job.requestedBy ?? null,
    enqueuedAt: new Date(ref.enqueuedAt).toISOString(),
    finishedAt: new Date().toISOString(),
  };
}

function salvage(data: unknown): Partial<CancelJob> {
  const parsed = parseCancelJob(data);
  if (parsed.ok) return parsed.job;
  const d = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  const guid = (v: unknown) => (typeof v === "string" && isGuid(v) ? v.toLowerCase() : undefined);
  return { machineActionId: guid(d.machineActionId), tenantId: guid(d.tenantId) };
}
