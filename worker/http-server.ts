import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OperationalError } from "../shared/core/errors.js";
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

/** /healthz, /readyz and /metrics on METRICS_PORT; three fixed routes need no framework. */
export function startOpsServer(options: OpsServerOptions): Promise<ListeningServer> {
  const { logger, metrics } = options;
  const handler: RequestListener = async (req, res) => {
    const path = (req.url ?? "/").replace(/\?.*/, "");
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD" }).end();
      } else if (path === "/healthz") {
        sendJson(res, 200, { status: "ok" });
      } else if (path === "/readyz") {
        const readiness = await options.ready();
        const { refused } = readiness;
        sendJson(
          res,
          readiness.ok ? 200 : 503,
          readiness.ok
            ? { status: "ready", ...(refused && { refused }) }
            : { status: "not ready", reason: readiness.reason, ...(refused && { refused }) },
        );
      } else if (path === "/metrics") {
        const body = await metrics.text();
        res.writeHead(200, { "Content-Type": metrics.contentType }).end(body);
      } else {
        sendJson(res, 404, { error: "not found; try /healthz, /readyz or /metrics" });
      }
    } catch (err) {
      logger.error({ path, err: (err as Error).message }, "worker HTTP request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.end();
    }
  };
  return listen(createServer(handler), options.port, options.host, "METRICS_PORT", "METRICS_HOST");
}

/**
 * Listens, or fails with an OperationalError naming the variables to change (a port in use is
 * the usual cause when two workers share a host).
 */
export function listen(
  server: Server,
  port: number,
  host: string,
  portVariable: string,
  hostVariable: string,
): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.close();
      reject(
        new OperationalError(
          `cannot listen on ${host}:${port} (${err.code ?? err.message}); set ${portVariable} to a free port or ${hostVariable} to an address of this host.`,
        ),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve({ port: (server.address() as AddressInfo).port, close: () => closeServer(server) });
    });
  });
}

/** Closes the server and its kept-alive connections, so a stopping worker exits at once. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function sendJson(res: Parameters<RequestListener>[1], status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}
