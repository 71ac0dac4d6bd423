/**
 * The pieces request and answer schemas are built of. Messages read after the field's name
 * ("machineActionId must be a GUID"), as each 400 names the field apart. Schemas stay flat (no
 * unions): Power Platform and Swagger 2.0 cannot express them.
 */
import { z } from "zod";
import { CAMPAIGN_ID_PATTERN } from "../../jobs/campaign.js";
import { ERROR_CODES, OUTCOMES } from "../../shared/contract/cancel-result.js";
import { GUID_PATTERN } from "../../shared/contract/guid.js";
import { MAX_COMMENT_CHARS, MAX_PRIORITY, MAX_TEXT_CHARS } from "../../shared/contract/limits.js";

/** The type error of a field: missing, or the wrong JSON type. */
export function must(what: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => (issue.input === undefined ? "is required" : `must be ${what}`) };
}

export const guid = z
  .string(must("a string"))
  .regex(GUID_PATTERN, "must be a GUID")
  .meta({ example: "5382f7ea-7557-4ab7-9782-d50480024a4e" });

export const comment = z
  .string(must("a string"))
  .min(1, "must not be empty")
  .max(MAX_COMMENT_CHARS, `must be at most ${MAX_COMMENT_CHARS} characters`)
  // An empty one is refused by min(1) already: one message per mistake.
  .refine((s) => s.length === 0 || s.trim().length > 0, "must not be blank")
  .describe("Cancellation comment sent to Defender.");

export const tenantRef = z
  .string(must("a string"))
  .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be a tenant GUID or name")
  .describe("The tenant's id or name; default: the service's default tenant.");

export const priority = z
  .number(must("a number"))
  .int("must be a whole number")
  .min(1, `must be from 1 to ${MAX_PRIORITY}`)
  .max(MAX_PRIORITY, `must be from 1 to ${MAX_PRIORITY}`)
  .describe("BullMQ priority, 1 (highest of the prioritized) to 2097151.");

export const shortText = z
  .string(must("a string"))
  .max(MAX_TEXT_CHARS, `must be at most ${MAX_TEXT_CHARS} characters`);

export const callbackUrl = z
  .string(must("a string"))
  .min(1, "must not be empty")
  .max(2048, "must be at most 2048 characters")
  .describe("https URL called back (Standard Webhooks) when the work finishes; needs INTAKE_WEBHOOK_SECRET.");

export const campaignId = z
  .string(must("a string"))
  .regex(
    CAMPAIGN_ID_PATTERN,
    "must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit",
  );

export const jobId = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,200}$/, "is not a job id")
  .describe("The job id answered by POST /v1/cancels.");

export const jobState = z.enum(["waiting", "delayed", "active", "finished"]);

export const statusUrl = z.string().describe("Absolute URL to poll (also sent as Location).");

/** Optional on every POST: a retry with the same key and body gets the first answer. */
export const idempotencyHeaders = z.looseObject({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 visible ASCII characters")
    .optional()
    .describe("Same key and same body within 24 h: the first answer again, nothing added."),
});

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .describe("RFC 9457 problem details (application/problem+json).");

export const cancelResult = z
  .object({
    jobId: z.string(),
    machineActionId: z.string().nullable(),
    tenantId: z.string().nullable(),
    outcome: z.enum(OUTCOMES),
    status: z.string().nullable().describe("Defender's status after processing."),
    action: z.record(z.string(), z.unknown()).nullable().describe("The MachineAction as last seen."),
    error: z
      .object({
        code: z.enum(ERROR_CODES),
        message: z.string(),
        httpStatus: z.number().int().optional(),
        target: z.string().optional(),
      })
      .nullable(),
    attempts: z.number().int(),
    comment: z.string().nullable(),
    correlationId: z.string().nullable(),
    campaignId: z.string().nullable(),
    requestedBy: z.string().nullable(),
    enqueuedAt: z.string(),
    finishedAt: z.string(),
  })
  .describe("The result of one cancel job.");
