import { z } from "zod";
import {
  callbackUrl,
  cancelResult,
  comment,
  guid,
  jobId,
  jobState,
  priority,
  shortText,
  statusUrl,
  tenantRef,
} from "./fields.js";

export const cancelRequest = z.strictObject({
  machineActionId: guid.describe("The machine action to cancel."),
  comment,
  tenantId: tenantRef.optional(),
  correlationId: shortText.optional().describe("Carried to the result."),
  priority: priority.optional().describe("Leave out for an urgent cancel (taken before any campaign job)."),
  callbackUrl: callbackUrl.optional(),
});

export const cancelAccepted = z
  .object({
    jobId: z.string(),
    machineActionId: z.string(),
    tenantId: z.string(),
    state: jobState,
    added: z.boolean().describe("false: the action already had a job in flight; that job is reported."),
    promoted: z.boolean().describe("true: that job was waiting as a campaign job and now runs as urgent."),
    statusUrl,
  })
  .describe("Accepted: poll statusUrl (also the Location header) after Retry-After seconds.");

export const jobParams = z.object({ jobId });

export const cancelPending = z
  .object({ jobId: z.string(), state: jobState, statusUrl })
  .describe("Still waiting, delayed or active: poll again after Retry-After seconds.");

export const cancelFinished = z
  .object({ jobId: z.string(), state: jobState, result: cancelResult })
  .describe("Finished: the result.");
