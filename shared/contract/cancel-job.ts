import { z } from "zod";
import { GUID_PATTERN } from "./guid.js";

/** The contract's job and result shapes (../shared/CONTRACT.md), as zod schemas and types. */

export const TERMINAL_STATUSES = ["Succeeded", "Failed", "Cancelled", "TimeOut"] as const;

export function isTerminal(status: string | null | undefined): boolean {
  return (TERMINAL_STATUSES as readonly (string | null | undefined)[]).includes(status);
}

/** A job's data larger than this is refused: nobody needs 16 KB to ask for one cancel. */
export const MAX_JOB_DATA_BYTES = 16 * 1024;

const guid = (what: string) =>
  z
    .string({ error: `${what} must be a string GUID` })
    .regex(GUID_PATTERN, `${what} must be a GUID`)
    .transform((s) => s.toLowerCase());

const optionalText = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .max(max, `${what} must be at most ${max} characters`)
    .nullish()
    .transform((v) => v ?? undefined);

export const cancelJobSchema = z.strictObject(
  {
    machineActionId: guid("machineActionId"),
    comment: z
      .string({ error: "comment must be a string" })
      .refine((s) => s.trim().length > 0, "comment must not be empty")
      .refine((s) => s.length <= 1000, "comment must be at most 1000 characters"),
    tenantId: guid("tenantId")
      .nullish()
      .transform((v) => v ?? undefined),
    requestedBy: optionalText("requestedBy", 200),
    correlationId: optionalText("correlationId", 200),
    campaignId: optionalText("campaignId", 200),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : undefined,
  },
);

export type CancelJob = z.infer<typeof cancelJobSchema>;
/** What a producer passes in; ids may be upper case, optional fields may be absent. */
export type CancelRequest = z.input<typeof cancelJobSchema>;

/** Validates untrusted job data; returns the job or the reasons it is refused. */
export function parseCancelJob(data: unknown): { ok: true; job: CancelJob } | { ok: false; reason: string } {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(data ?? null));
  } catch {
    return { ok: false, reason: "job data is not serializable JSON" };
  }
  if (size > MAX_JOB_DATA_BYTES)
    return { ok: false, reason: `job data is ${size} bytes; the limit is 16 KB` };
  const parsed = cancelJobSchema.safeParse(data);
  if (parsed.success) return { ok: true, job: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => i.message).join("; ") };
}

export const OUTCOMES = ["cancelled", "already_terminal", "not_found", "failed"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ERROR_CODES = [
  "invalid_job",
  "unauthorized",
  "forbidden",
  "throttled",
  "upstream",
  "bad_request",
  "unknown_tenant",
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
