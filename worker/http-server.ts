import Fastify, { type FastifyInstance, type onRequestHookHandler } from "fastify";
import { errorMessage } from "../shared/core/errors.js";
import { listenOn } from "../shared/core/listen.js";
import type { Logger } from "../shared/core/logger.js";

/** A tenant whose credential Entra ID refuses, as /readyz names it. */
export interface RefusedTenant {
  tenant: string;
  tenantId: string;
  code: string;
}

/** Ready or not, and the refused tenants when some are (ready while any tenant works). */
export type Readiness =
  | { ok: true; refused?: RefusedTenant[] }
  | { ok: false; reason: string; refused?: RefusedTenant[] };

export interface OpsServerOptions {
  host: string;
  port: number;
  logger: Logger;
  metrics: { text(): Promise<string>; readonly contentType: string };
  ready(): Promise<Readiness>;
}

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * An operations server of the worker (this one, the dashboard): Fastify like the intake, without
 * a request log. `authorize` runs first; then anything but GET and HEAD is refused with 405
 * (`refusal` its text). Kept-alive connections close with the server, so a stopping worker exits
 * at once.
 */
export function opsApp(
  logger: Logger,
  options: { authorize?: onRequestHookHandler; refusal?: string } = {},
): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  if (options.authorize) app.addHook("onRequest", options.authorize);
  app.addHook("onRequest", async (request, reply) => {
    if (request.method === "GET" || request.method === "HEAD") return;
    reply.code(405).header("allow", "GET, HEAD");
    return options.refusal ? reply.type("text/plain; charset=utf-8").send(options.refusal) : reply.send();
  });
  app.setErrorHandler((err, request, reply) => {
    const path = request.url.replace(/\?.*/, "");
    logger.error({ path, err: errorMessage(err) }, "worker HTTP request failed");
    return reply.code(500).send({ error: "internal error" });
  });
  return app;
}

/** /healthz, /readyz and /metrics on METRICS_PORT. */
export async function startOpsServer(options: OpsServerOptions): Promise<ListeningServer> {
  const { metrics } = options;
  const app = opsApp(options.logger);
  app.addHook("onSend", async (_request, reply, payload) => {
    if (reply.getHeader("content-type")?.toString().startsWith("application/json"))
      reply.header("cache-control", "no-store");
    return payload;
  });
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const readiness = await options.ready();
    const named = readiness.refused && { refused: readiness.refused };
    if (readiness.ok) return { status: "ready", ...named };
    return reply.code(503).send({ status: "not ready", reason: readiness.reason, ...named });
  });
  app.get("/metrics", async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).send({ error: "not found; try /healthz, /readyz or /metrics" }),
  );
  return listening(app, options.port, options.host, { port: "METRICS_PORT", host: "METRICS_HOST" });
}

/** Listens (naming the variables when it cannot) and hands back the port and a close. */
export async function listening(
  app: FastifyInstance,
  port: number,
  host: string,
  variables: { port: string; host: string },
): Promise<ListeningServer> {
  try {
    const bound = await listenOn(app, port, host, variables);
    return { port: bound, close: () => app.close() };
  } catch (err) {
    await app.close();
    throw err;
  }
}
