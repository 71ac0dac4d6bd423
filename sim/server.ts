import { X509Certificate } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { RateWindow } from "../shared/config/durations.js";
import { ActionStore } from "./action-store.js";
import { adminReply } from "./admin.js";
import { defenderError, MAX_TOP, type TerminalCancelMode } from "./defender-api.js";
import { dispatch } from "./dispatch.js";
import { type Reply, TokenRegistry } from "./entra.js";
import { type Fault, FaultPlan, type RandomFaults, type RouteKind } from "./faults.js";
import { DEFAULT_RATE_LIMITS, Quota } from "./quota.js";
import type { RecordedRequest } from "./recorded-request.js";
import { faultReply, readBody, send } from "./replies.js";
import { seededRng } from "./rng.js";
import { classifyPath } from "./routing.js";

export type { RecordedRequest } from "./recorded-request.js";
export type { Fault, RandomFaults, RouteKind, TerminalCancelMode };

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  tls: { key: string | Buffer; cert: string | Buffer };
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  clientCertPem?: string | Buffer;
  /** Lifetime of issued tokens (default 3599). msal never caches a token with 300 s or less to live. */
  tokenTtlSec?: number;
  /** Per (tenant, endpoint) sliding windows; default 100/1m and 1500/1h; [] disables throttling. */
  rateLimits?: readonly RateWindow[];
  /** Answer to cancelling a finished action (default "400"). */
  terminalCancel?: TerminalCancelMode;
  /** How long an action added at run time answers 404 before it is readable (default 0). */
  notFoundLagMs?: number;
  /** List page size when the client sends no $top (default and max 10000). */
  pageSize?: number;
  /** Added before every answer except admin routes. */
  latencyMs?: number;
  faults?: RandomFaults;
  /** Seeds the generated actions, random faults and drift (default 1). */
  seed?: number;
  /** How many actions to generate at start (default 0). */
  actions?: number;
  /** Moves Pending and InProgress actions on over time. */
  drift?: { intervalMs: number; stepProbability?: number };
  log?: (line: string) => void;
}

export interface Simulator {
  /** `https://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Same as `url`: the host part of the msal authority (`${authorityHost}/${tenantId}`). */
  authorityHost: string;
  store: ActionStore;
  /** Every Entra and Defender request in arrival order (not admin ones). */
  requests: RecordedRequest[];
  tokenRequests(): number;
  /** Every access token handed out so far (revoked ones included), e.g. to check logs never contain one. */
  issuedTokens(): string[];
  requestCount(endpoint?: RouteKind): number;
  injectFault(fault: Fault): void;
  /** Makes every token issued so far answer 401, as if it had been revoked or had expired. */
  revokeTokens(): void;
  close(): Promise<void>;
}

/**
 * Starts one HTTPS server that plays both Entra ID (OpenID metadata, client-credentials tokens) and the
 * Defender machine-actions API, with Microsoft's rate limits, scripted faults and an admin API under /_sim/.
 * Clients must trust `options.tls.cert` (NODE_EXTRA_CA_CERTS); TLS verification is never relaxed.
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  // Parse the client certificate now: a bad PEM should fail here, not as a 500 on the first token call.
  if (options.clientCertPem !== undefined) void new X509Certificate(options.clientCertPem).fingerprint256;
  const seed = options.seed ?? 1;
  const store = new ActionStore({ notFoundLagMs: options.notFoundLagMs ?? 0 });
  if (options.actions) store.seed(options.actions, seededRng(seed));
  const quota = new Quota(options.rateLimits ?? DEFAULT_RATE_LIMITS);
  const faults = new FaultPlan(options.faults, seededRng(seed + 1));
  const tokens = new TokenRegistry();
  const requests: RecordedRequest[] = [];
  const deps = {
    store,
    quota,
    tokens,
    entra: {
      tenantId: options.tenantId,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      clientCertPem: options.clientCertPem,
      tokenTtlSec: options.tokenTtlSec ?? 3599,
    },
    pageSize: Math.min(options.pageSize ?? MAX_TOP, MAX_TOP),
    terminalCancel: options.terminalCancel ?? "400",
  };
  const stopping = new AbortController();
  // Every delayed answer listens for close() while it waits: many at once is normal, not a leak.
  setMaxListeners(0, stopping.signal);
  const sockets = new Map<string, Socket>();
  const log = options.log ?? (() => {});

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "https://simulator.invalid");
    const path = url.pathname;
    const rawBody = await readBody(req);
    if (rawBody === undefined) return send(res, { status: 413 }, "json");
    if (path.startsWith("/_sim/")) {
      return send(res, adminReply(method, path, rawBody, { store, requests, faults, tokens }), "json");
    }
    const route = classifyPath(path);
    const rec: RecordedRequest = {
      method,
      path,
      query: url.search,
      endpoint: route.kind,
      status: 0,
      at: Date.now(),
    };
    if (route.tenant) rec.tenant = route.tenant;
    requests.push(rec);
    const fault = faults.take({ method, path, query: url.search, endpoint: route.kind, body: rawBody });
    if (fault) rec.fault = fault.source;
    // The answer is decided on arrival and only sent late, so a client that times out on a slow cancel
    // has still cancelled: the race a real worker has to survive.
    let reply: Reply | undefined;
    if (fault?.status !== undefined) reply = faultReply(fault, route.kind);
    else if (!fault?.reset) {
      const base = `https://${req.headers.host ?? hostPort}`;
      const { authorization } = req.headers;
      const answered = dispatch(
        { method, route, query: url.searchParams, rawBody, base, authorization },
        deps,
      );
      reply = answered.reply;
      if (answered.tenant) rec.tenant = answered.tenant;
    }
    const delayMs = (options.latencyMs ?? 0) + (fault?.delayMs ?? 0);
    if (delayMs > 0) await sleep(delayMs, undefined, { signal: stopping.signal });
    if (!reply || fault?.dropAnswer) {
      // A TCP RST (ECONNRESET at the client) needs the raw socket under the TLS one.
      const raw = sockets.get(peer(req.socket));
      if (raw) raw.resetAndDestroy();
      else req.socket.destroy();
      return log(`${method} ${path} -> reset`);
    }
    rec.status = reply.status;
    send(res, reply, route.kind === "token" || route.kind === "openid" ? "entra" : "odata");
    log(`${method} ${path} -> ${reply.status}${rec.fault ? ` (${rec.fault} fault)` : ""}`);
  };

  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (stopping.signal.aborted) return;
      log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) send(res, defenderError(500, "InternalServerError", "Simulator error"), "json");
    });
  });
  // Keep-alive clients would hold close() open indefinitely; track raw sockets to end them.
  server.on("connection", (socket: Socket) => {
    const key = peer(socket);
    sockets.set(key, socket);
    socket.once("close", () => sockets.delete(key));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  if (options.drift) store.startDrift({ ...options.drift, rng: seededRng(seed + 2) });
  const port = (server.address() as AddressInfo).port;
  const host = options.host && !["0.0.0.0", "::"].includes(options.host) ? options.host : "127.0.0.1";
  const hostPort = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const url = `https://${hostPort}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    authorityHost: url,
    store,
    requests,
    tokenRequests: () => requests.filter((r) => r.endpoint === "token" && r.method === "POST").length,
    requestCount: (endpoint) =>
      requests.filter((r) => endpoint === undefined || r.endpoint === endpoint).length,
    issuedTokens: () => tokens.all(),
    injectFault: (fault) => faults.inject(fault),
    revokeTokens: () => tokens.revokeAll(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        stopping.abort();
        store.stopDrift();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets.values()) socket.destroy();
      });
      return closing;
    },
  };
}

const peer = (socket: Socket) => `${socket.remoteAddress}:${socket.remotePort}`;
