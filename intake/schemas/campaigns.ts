import { z } from "zod";
import { MAX_CAMPAIGN_IDS } from "../limits.js";
import {
  callbackUrl,
  campaignId,
  cancelResult,
  comment,
  guid,
  must,
  priority,
  statusUrl,
  tenantRef,
} from "./fields.js";

/** Flat for Swagger 2.0: both sources are optional there, and the server requires exactly one. */
export const campaignRequest = z
  .strictObject({
    machineActionIds: z
      .array(guid, must("an array of GUIDs"))
      .min(1, "must not be empty")
      .max(MAX_CAMPAIGN_IDS, `must hold at most ${MAX_CAMPAIGN_IDS} ids`)
      .optional()
      .describe(`Up to ${MAX_CAMPAIGN_IDS} machine action ids; exactly one of machineActionIds and filter.`),
    filter: z
      .string(must("a string"))
      .min(1, "must not be empty")
      .max(1500, "must be at most 1500 characters")
      .optional()
      .describe("OData $filter for GET /api/machineactions; only actions not yet finished are enqueued."),
    comment,
    name: campaignId.optional().describe("The campaign id; default generated."),
    max: z
      .number(must("a number"))
      .int("must be a whole number")
      .min(1, `must be from 1 to ${MAX_CAMPAIGN_IDS}`)
      .max(MAX_CAMPAIGN_IDS, `must be from 1 to ${MAX_CAMPAIGN_IDS}`)
      .optional()
      .describe("A filter matching more actions than this (default 1000) is refused."),
    priority: priority.optional().describe("Default 1000: behind every urgent cancel."),
    dryRun: z.boolean(must("true or false")).optional().describe("Report what would be enqueued."),
    callbackUrl: callbackUrl.optional(),
    tenantId: tenantRef.optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.machineActionIds === undefined) === (body.filter === undefined))
      for (const path of ["machineActionIds", "filter"])
        ctx.addIssue({
          code: "custom",
          path: [path],
          message: "give exactly one of machineActionIds and filter",
        });
  });

export const campaignAccepted = z
  .object({
    campaignId: z.string(),
    added: z.number().int().describe("Jobs added."),
    alreadyQueued: z.array(z.string()).describe("Actions that already had a job in flight, left to it."),
    statusUrl,
  })
  .describe("Accepted: every job was added; poll statusUrl (also the Location header).");

export const campaignDryRun = z
  .object({
    dryRun: z.boolean(),
    tenantId: z.string(),
    source: z.string(),
    toEnqueue: z.number().int().describe("Jobs a campaign would add."),
    machineActionIds: z.array(z.string()),
    lookedUp: z
      .number()
      .int()
      .describe(
        "Actions whose current status was looked up (none without the service's Defender credentials).",
      ),
    byStatus: z
      .record(z.string(), z.number().int())
      .describe('Looked-up actions by status; "(not found)" too.'),
    byType: z.record(z.string(), z.number().int()).describe("Looked-up actions by type."),
  })
  .describe("Dry run: what would be enqueued; nothing was.");

export const campaignParams = z.object({ campaignId });

export const campaignStatus = z
  .object({
    campaignId: z.string(),
    tenantId: z.string().nullable(),
    state: z.enum(["draining", "finished"]),
    total: z.number().int(),
    done: z.number().int(),
    counts: z.record(z.string(), z.number().int()).describe("Finished actions by outcome."),
    createdAt: z.string(),
    statusUrl,
    resultsUrl: z.string(),
  })
  .describe("The campaign's progress.");

export const resultsQuery = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,20}$/, "must be the next value of the previous page")
    .optional(),
  limit: z.coerce
    .number(must("a number"))
    .int("must be a whole number")
    .min(1, "must be from 1 to 1000")
    .max(1000, "must be from 1 to 1000")
    .optional()
    .describe("Results per page (a hint; default 100)."),
});

export const resultsPage = z
  .object({
    results: z.array(cancelResult),
    next: z.string().nullable().describe("The cursor of the next page; null after the last."),
  })
  .describe("One page of results; a result may reappear on a later page (dedupe on jobId).");
