import Fastify, { type FastifyBaseLogger, LogController } from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { auditRequests } from "./audit.js";
import { requireApiKeys } from "./auth.js";
import type { IntakeApp, IntakeDeps } from "./deps.js";
import { describeRoutes, documentRoutes } from "./docs/documents.js";
import { answerErrorsAsProblems, frameworkErrorAsProblem } from "./error-handler.js";
import { honourIdempotencyKeys } from "./idempotency.js";
import { BODY_LIMIT_BYTES } from "./limits.js";
import { limitEachKey } from "./rate-limit.js";
import "./request-context.js";
import { campaignRoutes } from "./routes/campaigns.js";
import { cancelRoutes } from "./routes/cancels.js";
import { operationRoutes } from "./routes/operations.js";

/**
 * The HTTP intake, not listening: the caller listens (startIntake) or injects. Two rooms: the
 * public one (probes, documents) needs no key; behind the API one every request is authenticated,
 * then rate-limited per key, made idempotent and audited.
 */
export async function buildIntakeApp(deps: IntakeDeps): Promise<IntakeApp> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per answer is ours to write (without headers: keys never reach the log).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A filter waiting for list budget must not hold a connection past Logic Apps' own 120 s.
    requestTimeout: 100_000,
    frameworkErrors: frameworkErrorAsProblem,
  }).withTypeProvider<ZodTypeProvider>();
  app.decorateRequest("intake", null as never);
  app.addHook("onRequest", async (request) => {
    request.intake = {};
  });
  if (deps.onRoute) app.addHook("onRoute", deps.onRoute);
  app.setValidatorCompiler(validatorCompiler);
  // Answers are documented by their schemas but not re-validated on the way out: a result written
  // by a newer worker (an outcome added later) must still reach the playbook, not turn into a 500.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // JSON only: Fastify would otherwise hand text/plain bodies to the routes as strings.
  app.removeContentTypeParser(["text/plain"]);
  answerErrorsAsProblems(app);
  app.addHook("onResponse", async (request, reply) => {
    const line = { method: request.method, route: request.routeOptions.url, status: reply.statusCode };
    // A URL Fastify could not decode (frameworkErrors) is answered before onRequest set `intake`.
    const key = request.intake?.apiKey?.name;
    const ms = Math.round(reply.elapsedTime);
    if (request.method === "GET" && reply.statusCode < 400)
      request.log.debug({ ...line, key, ms }, "answered");
    else request.log.info({ ...line, key, ms }, "answered");
  });
  await describeRoutes(app);

  await app.register(async (open: IntakeApp) => {
    operationRoutes(open, deps);
    await documentRoutes(open, deps.publicUrl);
  });
  await app.register(async (api: IntakeApp) => {
    requireApiKeys(api, deps.apiKeys);
    await limitEachKey(api, { window: deps.rateLimit, redis: deps.redis, prefix: deps.keyPrefix });
    honourIdempotencyKeys(api, deps.idempotency);
    auditRequests(api, deps.audit);
    cancelRoutes(api, deps);
    campaignRoutes(api, deps);
  });
  return app;
}
