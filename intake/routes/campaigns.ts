import type { FastifyRequest } from "fastify";
import { dryRunSummary } from "../../jobs/action-lookup.js";
import type { CampaignOrder } from "../../jobs/campaign-order.js";
import type { CampaignRecord } from "../../shared/redis/campaign-store.js";
import { apiKeyOf, requestedBy } from "../auth.js";
import type { IntakeApp, IntakeDeps } from "../deps.js";
import { CAMPAIGN_POLL_SECONDS, DEFAULT_FILTER_MAX } from "../limits.js";
import { absoluteUrl } from "../links.js";
import { fieldProblem, IntakeProblem } from "../problem.js";
import {
  campaignAccepted,
  campaignDryRun,
  campaignParams,
  campaignRequest,
  campaignStatus,
  resultsPage,
  resultsQuery,
} from "../schemas/campaigns.js";
import { idempotencyHeaders } from "../schemas/fields.js";
import { problemResponse } from "../schemas/responses.js";
import { actingTenant, visible } from "../tenant-access.js";

const TAGS = ["campaigns"];

/** POST /v1/campaigns (ids or a filter, or a dry run), its progress and its results, paged. */
export function campaignRoutes(app: IntakeApp, deps: IntakeDeps): void {
  const url = (request: FastifyRequest, campaignId: string, tail = "") =>
    absoluteUrl(request, deps.publicUrl, `/v1/campaigns/${encodeURIComponent(campaignId)}${tail}`);

  /** The campaign if this key may see it; 404 otherwise (another tenant's is as good as unknown). */
  const visibleCampaign = async (request: FastifyRequest, campaignId: string): Promise<CampaignRecord> => {
    const record = await deps.backend.campaign(campaignId);
    if (!record || !visible(request, record.tenantId ?? deps.tenants.defaultTenantId))
      throw new IntakeProblem(
        404,
        `No campaign ${campaignId} is kept (unknown, or older than RESULT_RETENTION).`,
      );
    request.intake.audited = { campaignId, ...(record.tenantId ? { tenantId: record.tenantId } : {}) };
    return record;
  };

  app.post(
    "/v1/campaigns",
    {
      schema: {
        operationId: "StartCampaign",
        summary: "Cancel many machine actions: by ids or by an OData filter",
        description:
          "Answers 202 as soon as every job is added (200 with what would be enqueued for dryRun). Exactly one of machineActionIds and filter.",
        tags: TAGS,
        headers: idempotencyHeaders,
        body: campaignRequest,
        response: { 200: campaignDryRun, 202: campaignAccepted, ...problemResponse },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const tenantId = actingTenant(request, deps.tenants, body.tenantId);
      // Duplicates collapsed, as in an ids file: one job per action.
      const ids = body.machineActionIds && [...new Set(body.machineActionIds.map((id) => id.toLowerCase()))];
      request.intake.audited = { tenantId, ...(ids ? { machineActionIds: ids } : {}) };
      const order: CampaignOrder = {
        tenantId,
        source: ids
          ? { ids, label: `api ${ids.length} ids` }
          : { filter: body.filter ?? "", max: body.max ?? DEFAULT_FILTER_MAX },
        comment: body.comment,
        campaignId: body.name,
        priority: body.priority,
        requestedBy: requestedBy(apiKeyOf(request)),
      };
      if (body.callbackUrl !== undefined) {
        const refusal = await deps.callbacks.check(body.callbackUrl);
        if (refusal) throw fieldProblem("callbackUrl", refusal);
      }
      if (body.dryRun) {
        request.intake.audited.reason = "dryRun: nothing enqueued";
        const dry = await deps.backend.dryRun(order);
        const { byStatus, byType } = dryRunSummary(dry) ?? { byStatus: {}, byType: {} };
        return reply.code(200).send({
          dryRun: true,
          tenantId,
          source: dry.source,
          toEnqueue: dry.ids.length,
          machineActionIds: dry.ids,
          lookedUp: dry.lookedUp,
          byStatus,
          byType,
        });
      }
      const started = await deps.backend.startCampaign(order);
      request.intake.audited.campaignId = started.campaignId;
      if (body.callbackUrl !== undefined)
        await deps.callbacks.register({ campaignId: started.campaignId }, body.callbackUrl);
      const statusUrl = url(request, started.campaignId);
      reply.code(202).header("location", statusUrl).header("retry-after", String(CAMPAIGN_POLL_SECONDS));
      return { ...started, statusUrl };
    },
  );

  app.get(
    "/v1/campaigns/:campaignId",
    {
      schema: {
        operationId: "GetCampaign",
        summary: "A campaign's progress: counts by outcome",
        description: "202 with Retry-After while it drains; 200 once every job finished.",
        tags: TAGS,
        params: campaignParams,
        response: { 200: campaignStatus, 202: campaignStatus, ...problemResponse },
      },
    },
    async (request, reply) => {
      const record = await visibleCampaign(request, request.params.campaignId);
      const finished = record.done >= record.total;
      const statusUrl = url(request, record.id);
      if (!finished)
        reply.code(202).header("location", statusUrl).header("retry-after", String(CAMPAIGN_POLL_SECONDS));
      return {
        campaignId: record.id,
        tenantId: record.tenantId ?? deps.tenants.defaultTenantId ?? null,
        state: finished ? ("finished" as const) : ("draining" as const),
        total: record.total,
        done: record.done,
        counts: record.counts,
        createdAt: record.createdAt,
        statusUrl,
        resultsUrl: url(request, record.id, "/results"),
      };
    },
  );

  app.get(
    "/v1/campaigns/:campaignId/results",
    {
      schema: {
        operationId: "GetCampaignResults",
        summary: "A campaign's results, one page at a time",
        description: "Follow next as cursor until it is null.",
        tags: TAGS,
        params: campaignParams,
        querystring: resultsQuery,
        response: { 200: resultsPage, ...problemResponse },
      },
    },
    async (request) => {
      const record = await visibleCampaign(request, request.params.campaignId);
      const { cursor, limit = 100 } = request.query;
      return deps.backend.campaignResults(record.id, { cursor, limit });
    },
  );
}
