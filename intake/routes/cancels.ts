import { z } from "zod";
import { apiKeyOf, requestedBy } from "../auth.js";
import type { IntakeApp, IntakeDeps } from "../deps.js";
import { CANCEL_POLL_SECONDS } from "../limits.js";
import { absoluteUrl } from "../links.js";
import { fieldProblem, IntakeProblem } from "../problem.js";
import {
  cancelAccepted,
  cancelFinished,
  cancelPending,
  cancelRequest,
  jobParams,
} from "../schemas/cancels.js";
import { idempotencyHeaders } from "../schemas/fields.js";
import { problemResponse } from "../schemas/responses.js";
import { actingTenant, visible } from "../tenant-access.js";

const TAGS = ["cancels"];

/** POST /v1/cancels, its 202 polling (GET) and the Logic Apps unsubscribe (DELETE .../callback). */
export function cancelRoutes(app: IntakeApp, deps: IntakeDeps): void {
  const statusUrl = (request: Parameters<typeof absoluteUrl>[0], jobId: string) =>
    absoluteUrl(request, deps.publicUrl, `/v1/cancels/${encodeURIComponent(jobId)}`);

  app.post(
    "/v1/cancels",
    {
      schema: {
        operationId: "CancelMachineAction",
        summary: "Cancel one machine action",
        description:
          "Adds a cancel job (or reports the one the action already has) and answers 202 at once; poll Location until 200.",
        tags: TAGS,
        headers: idempotencyHeaders,
        body: cancelRequest,
        response: { 202: cancelAccepted, ...problemResponse },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const key = apiKeyOf(request);
      const tenantId = actingTenant(request, deps.tenants, body.tenantId);
      const machineActionId = body.machineActionId.toLowerCase();
      request.intake.audited = { tenantId, machineActionIds: [machineActionId] };
      if (body.callbackUrl !== undefined) {
        const refusal = await deps.callbacks.check(body.callbackUrl);
        if (refusal) throw fieldProblem("callbackUrl", refusal);
      }
      const accepted = await deps.backend.enqueue({
        machineActionId,
        comment: body.comment,
        tenantId,
        requestedBy: requestedBy(key),
        correlationId: body.correlationId,
        priority: body.priority,
      });
      request.intake.audited.jobId = accepted.jobId;
      if (body.callbackUrl !== undefined)
        await deps.callbacks.register({ jobId: accepted.jobId }, body.callbackUrl);
      const url = statusUrl(request, accepted.jobId);
      reply.code(202).header("location", url).header("retry-after", String(CANCEL_POLL_SECONDS));
      return { ...accepted, statusUrl: url };
    },
  );

  app.get(
    "/v1/cancels/:jobId",
    {
      schema: {
        operationId: "GetCancel",
        summary: "The state of a cancel job, and its result once finished",
        description:
          "202 with Retry-After while waiting, delayed or active; 200 with the result once finished.",
        tags: TAGS,
        params: jobParams,
        response: { 200: cancelFinished, 202: cancelPending, ...problemResponse },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      const view = await deps.backend.cancelJob(jobId);
      if (!view || !visible(request, view.tenantId)) throw unknownJob(jobId);
      request.intake.audited = { jobId, ...(view.tenantId ? { tenantId: view.tenantId } : {}) };
      if (view.result)
        return reply.code(200).send({ jobId, state: "finished" as const, result: view.result });
      const url = statusUrl(request, jobId);
      reply.code(202).header("location", url).header("retry-after", String(CANCEL_POLL_SECONDS));
      // Finished without a readable result (removed meanwhile): still being settled as far as a poller knows.
      return { jobId, state: view.state === "finished" ? ("active" as const) : view.state, statusUrl: url };
    },
  );

  app.delete(
    "/v1/cancels/:jobId/callback",
    {
      schema: {
        operationId: "DropCancelCallback",
        summary: "Drop the pending callback of a cancel job",
        description: "What a Logic Apps HTTP Webhook action calls to unsubscribe. The cancel itself goes on.",
        tags: TAGS,
        params: jobParams,
        response: { 204: z.null().describe("Dropped (or there was none)."), ...problemResponse },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      const view = await deps.backend.cancelJob(jobId);
      if (!view || !visible(request, view.tenantId)) throw unknownJob(jobId);
      request.intake.audited = { jobId, ...(view.tenantId ? { tenantId: view.tenantId } : {}) };
      await deps.callbacks.drop(jobId);
      return reply.code(204).send(null);
    },
  );
}

function unknownJob(jobId: string): IntakeProblem {
  return new IntakeProblem(
    404,
    `No cancel job ${jobId} is kept (unknown, or finished longer than RESULT_RETENTION ago).`,
  );
}
