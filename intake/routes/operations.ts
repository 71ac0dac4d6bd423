import { z } from "zod";
import { errorMessage, OperationalError } from "../../shared/core/errors.js";
import { withTimeout } from "../../shared/core/with-timeout.js";
import type { IntakeApp, IntakeDeps } from "../deps.js";

/** How long /readyz waits for PING: a probe must answer well within its own timeout. */
const READY_TIMEOUT_MS = 2_000;

const TAGS = ["operations"];
const health = z.object({ status: z.string(), reason: z.string().optional() });

/**
 * /healthz, /readyz and /metrics, as the worker's: no key (a probe or a Prometheus scraper has
 * none, and none of them tells anything about a job), hidden from Power Platform's action list.
 */
export function operationRoutes(app: IntakeApp, deps: Pick<IntakeDeps, "redis" | "metrics">): void {
  const hidden = { "x-ms-visibility": "internal", security: [] } as const;
  app.get(
    "/healthz",
    {
      schema: {
        operationId: "Healthz",
        summary: "200 while the process runs",
        tags: TAGS,
        ...hidden,
        response: { 200: health.describe("Running.") },
      },
    },
    async () => ({ status: "ok" }),
  );
  app.get(
    "/readyz",
    {
      schema: {
        operationId: "Readyz",
        summary: "200 when Redis answers, 503 otherwise",
        tags: TAGS,
        ...hidden,
        response: { 200: health.describe("Ready."), 503: health.describe("Not ready: reason says why.") },
      },
    },
    async (_request, reply) => {
      try {
        await withTimeout(deps.redis.ping(), READY_TIMEOUT_MS, () => new OperationalError("no answer"));
        return { status: "ready" };
      } catch (err) {
        return reply.code(503).send({ status: "not ready", reason: `Redis: ${errorMessage(err)}` });
      }
    },
  );
  app.get(
    "/metrics",
    {
      schema: {
        operationId: "Metrics",
        summary: "Prometheus metrics: callback attempts by type and result, and the process",
        tags: TAGS,
        ...hidden,
        produces: ["text/plain"],
        response: { 200: z.string().describe("Prometheus text format.") },
      },
    },
    async (_request, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()),
  );
}
