/** The cancel job as the contract writes it: the zod schema every producer and the worker validate with. */
import { z } from "zod";
import { GUID_PATTERN, isGuid } from "./guid.js";
import { commentProblem, MAX_JOB_DATA_BYTES, MAX_TEXT_CHARS } from "./limits.js";
import { seenSchema } from "./seen-status.js";
import { TENANT_NAME, TENANT_NAME_RULE } from "./tenant-name.js";

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
    comment: z.string({ error: "comment must be a string" }).superRefine((s, ctx) => {
      const problem = commentProblem(s);
      if (problem) ctx.addIssue({ code: "custom", message: `comment ${problem}` });
    }),
    // The tenant's GUID, or its name from MDE_TENANTS_FILE: a front door stores the id, and the
    // worker resolves a name written by another producer before it reaches a URL or a Redis key.
    tenantId: z
      .string({ error: "tenantId must be a string" })
      .refine(
        (s) => GUID_PATTERN.test(s) || TENANT_NAME.test(s),
        `tenantId must be a tenant GUID or a tenant name (${TENANT_NAME_RULE})`,
      )
      .transform((s) => (isGuid(s) ? s.toLowerCase() : s))
      .nullish()
      .transform((v) => v ?? undefined),
    requestedBy: optionalText("requestedBy", MAX_TEXT_CHARS),
    correlationId: optionalText("correlationId", MAX_TEXT_CHARS),
    campaignId: optionalText("campaignId", MAX_TEXT_CHARS),
    // What a campaign saw just before enqueuing (see seen-status.ts): lets the worker skip its check.
    seen: seenSchema.optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : undefined,
  },
);

export type CancelJob = z.infer<typeof cancelJobSchema>;

/**
 * A campaign's jobs leave `comment` out: their campaign's record holds it once (about 50 bytes of Redis
 * less per waiting job). A job lacking it gets its campaign's comment here before it is validated, so
 * every reader sees the job as the contract writes it; a job lacking it without a campaign, or whose
 * campaign's record is gone, stays invalid. Foreign producers keep sending `comment`.
 */
export function withCampaignComment(data: unknown, comment: string | undefined): unknown {
  if (comment === undefined || !campaignOf(data)) return data;
  const d = data as Record<string, unknown>;
  return d.comment === undefined ? { ...d, comment } : data;
}

/** The campaign a job names, when it lacks its comment: whose record to read it from. */
export function campaignOf(data: unknown): string | undefined {
  if (!data || typeof data !== "object") return undefined;
  const d = data as Record<string, unknown>;
  return d.comment === undefined && typeof d.campaignId === "string" ? d.campaignId : undefined;
}
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
    return { ok: false, reason: `job data is ${size} bytes; the limit is ${MAX_JOB_DATA_BYTES / 1024} KB` };
  const parsed = cancelJobSchema.safeParse(data);
  if (parsed.success) return { ok: true, job: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => i.message).join("; ") };
}
