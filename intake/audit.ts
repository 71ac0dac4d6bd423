import type { FastifyInstance } from "fastify";
import { errorMessage } from "../shared/core/errors.js";
import type { HttpAuditEntry, HttpAuditSink } from "./audit-sink.js";
import { requestedBy } from "./auth.js";

/**
 * Hands the audit sink every request that changed something (POST, DELETE; replays marked) and
 * every refusal (4xx), once answered. Never the key: its name only.
 */
export function auditRequests(app: FastifyInstance, sink: HttpAuditSink): void {
  app.addHook("onResponse", async (request, reply) => {
    const refused = reply.statusCode >= 400 && reply.statusCode < 500;
    const changed = reply.statusCode < 300 && request.method !== "GET" && request.method !== "HEAD";
    if (!refused && !changed) return;
    const { apiKey, audited, refusal, replayed } = request.intake;
    const entry: HttpAuditEntry = {
      kind: refused ? "refused" : "accepted",
      method: request.method,
      route: request.routeOptions.url ?? request.url.replace(/\?.*/, ""),
      status: reply.statusCode,
      requestedBy: apiKey ? requestedBy(apiKey) : null,
      apiKey: apiKey?.name ?? null,
      clientAddress: request.ip,
      ...audited,
      ...(replayed ? { replayed } : {}),
      ...(refusal ? { reason: refusal } : {}),
    };
    try {
      await sink.record(entry);
    } catch (err) {
      request.log.error({ err: errorMessage(err), route: entry.route }, "audit entry not recorded");
    }
  });
}
