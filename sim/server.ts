import { setMaxListeners } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { ActionStore } from "./action-store.js";
import { adminReply } from "./admin.js";
import { defenderError, MAX_TOP, type TerminalCancelMode } from "./defender-api.js";
import { bearerGrant, dispatch, entraTenant } from "./dispatch.js";
import type { Reply } from "./entra.js";
import { type Fault, FaultPlan, type RandomFaults, type RouteKind } from "./faults.js";
import { type HttpsListener, listenHttps } from "./https-listener.js";
import type { RecordedRequest } from "./recorded-request.js";
import { faultReply, readBody, send } from "./replies.js";
import { classifyPath } from "./routing.js";
import type { AuthorityName, SimTenant } from "./sim-tenant.js";
import type { SimulatorOptions } from "./simulator-options.js";
import { TenantSet } from "./tenant-set.js";
import { TokenRegistry } from "./token-registry.js";

export type { RecordedRequest } from "./recorded-request.js";
export type { SimTenant } from "./sim-tenant.js";
export type { SimTenantOptions, SimulatorOptions } from "./simulator-options.js";
export type { Fault, RandomFaults, RouteKind, TerminalCancelMode };

export interface Simulator {
  /** `https://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Same as `url`: the host part of the msal authority (`${authorityHost}/${tenantId}`). */
  authorityHost: string;
  /** With `secondAuthority`: the other cloud's authority host, which is also its Defender API root. */
  secondAuthorityHost?: string;
  /** The first tenant's actions. */
  store: ActionStore;
  /** Every tenant, the first one first. */
  tenants: readonly SimTenant[];
  /** A tenant by id (any case) or name. */
  tenant(idOrName: string): SimTenant | undefined;
  /** Every Entra and Defender request in arrival order (not admin ones). */
  requests: RecordedRequest[];
  tokenRequests(): number;
  /** Every access token handed out so far (revoked ones included), e.g. to check logs never contain one. */
  issuedTokens(): string[];
  requestCount(endpoint?: RouteKind): number;
  /** Queues a fault; `fault.tenant` (an id or name) limits it to that tenant's requests. */
  injectFault(fault: Fault): void;
  /** Makes every token issued so far answer 401, as if it had been revoked or had expired. */
  revokeTokens(): void;
  close(): Promise<void>;
}

/**
 * Starts one HTTPS server that plays both Entra ID (OpenID metadata, client-credentials tokens) and the
 * Defender machine-actions API, with Microsoft's rate limits, scripted faults and an admin API under /_sim/.
 * It serves one tenant or many, each with its own app registration, actions, budget and faults; with
 * `secondAuthority`, a second port plays another cloud for the tenants that live there.
 * Clients must trust `options.tls.cert` (NODE_EXTRA_CA_CERTS); TLS verification is never relaxed.
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const tenants = TenantSet.fromOptions(options);
  const faults = new FaultPlan();
  const tokens = new TokenRegistry();
  const requests: RecordedRequest[] = [];
  const deps = {
    tenants,
    tokens,
    tokenTtlSec: options.tokenTtlSec ?? 3599,
    pageSize: Math.min(options.pageSize ?? MAX_TOP, MAX_TOP),
    terminalCancel: options.terminalCancel ?? "400",
  };
  const inject = (fault: Fault) => {
    if (fault.tenant === undefined) return faults.inject(fault);
    const tenant = tenants.get(fault.tenant);
    if (!tenant) throw new RangeError(`no simulated tenant is called ${JSON.stringify(fault.tenant)}`);
    faults.inject({ ...fault, tenant: tenant.id });
  };
  const stopping = new AbortController();
  // Every delayed answer listens for close() while it waits: many at once is normal, not a leak.
  setMaxListeners(0, stopping.signal);
  const log = options.log ?? (() => {});
  const maxRequestLine = options.maxRequestLineLength ?? 2048;
  const admin = { tenants, requests, faults: { inject, pending: () => faults.pending }, tokens };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    listener: HttpsListener,
    authority: AuthorityName,
  ): Promise<void> => {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "https://simulator.invalid");
    const path = url.pathname;
    const rawBody = await readBody(req);
    if (rawBody === undefined) return send(res, { status: 413 }, "json");
    if (path.startsWith("/_sim/")) return send(res, adminReply(method, url, rawBody, admin), "json");
    const route = classifyPath(path);
    const rec: RecordedRequest = {
      method,
      path,
      query: url.search,
      endpoint: route.kind,
      status: 0,
      at: Date.now(),
    };
    if (authority === "second") rec.authority = "second";
    if (route.tenant) rec.tenant = route.tenant;
    requests.push(rec);
    // Defender's front door refuses an overlong request line before the API (or its quota) sees it.
    const entra = route.kind === "token" || route.kind === "openid";
    if (!entra && `${method} ${req.url} HTTP/${req.httpVersion}`.length > maxRequestLine) {
      rec.status = 414;
      send(res, { status: 414, body: "HTTP Error 414. The request URL is too long." }, "json");
      return log(`${method} ${path} -> 414 (request line too long)`);
    }
    // Whose request this is decides which scripted faults apply and whose random noise it meets.
    const { authorization } = req.headers;
    const owner = route.tenant
      ? entraTenant({ route, authority }, tenants)
      : tenants.get(bearerGrant(authorization, tokens)?.tenant ?? "");
    const about = { method, path, query: url.search, endpoint: route.kind, body: rawBody, tenant: owner?.id };
    const fault = faults.take(about) ?? (owner ?? tenants.primary).faults.take(about);
    if (fault) rec.fault = fault.source;
    // The answer is decided on arrival and only sent late, so a client that times out on a slow cancel
    // has still cancelled: the race a real worker has to survive.
    let reply: Reply | undefined;
    if (fault?.status !== undefined) reply = faultReply(fault, route.kind);
    else if (!fault?.reset) {
      const base = req.headers.host ? `https://${req.headers.host}` : listener.url;
      const call = { method, route, query: url.searchParams, rawBody, base, authority, authorization };
      const answered = dispatch(call, deps);
      reply = answered.reply;
      if (answered.tenant) rec.tenant = answered.tenant;
    }
    const delayMs = (options.latencyMs ?? 0) + (fault?.delayMs ?? 0);
    if (delayMs > 0) await sleep(delayMs, undefined, { signal: stopping.signal });
    if (!reply || fault?.dropAnswer) {
      listener.reset(req);
      return log(`${method} ${path} -> reset`);
    }
    rec.status = reply.status;
    send(res, reply, route.kind === "token" || route.kind === "openid" ? "entra" : "odata");
    log(`${method} ${path} -> ${reply.status}${rec.fault ? ` (${rec.fault} fault)` : ""}`);
  };

  const listen = async (authority: AuthorityName, port: number | undefined): Promise<HttpsListener> => {
    let listener: HttpsListener | undefined;
    listener = await listenHttps({ port, host: options.host, tls: options.tls }, (req, res) => {
      handle(req, res, listener as HttpsListener, authority).catch((err: unknown) => {
        if (stopping.signal.aborted) return;
        log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
        if (!res.headersSent) send(res, defenderError(500, "InternalServerError", "Simulator error"), "json");
      });
    });
    return listener;
  };
  const first = await listen("first", options.port);
  // The second cloud always takes a free port: a fixed --port names the first host only.
  const second = options.secondAuthority ? await listen("second", 0).catch(closeFirst(first)) : undefined;
  for (const tenant of tenants.all) if (options.drift) tenant.startDrift(options.drift);
  let closing: Promise<void> | undefined;

  return {
    url: first.url,
    port: first.port,
    authorityHost: first.url,
    ...(second ? { secondAuthorityHost: second.url } : {}),
    store: tenants.primary.store,
    tenants: tenants.all,
    tenant: (idOrName) => tenants.get(idOrName),
    requests,
    tokenRequests: () => requests.filter((r) => r.endpoint === "token" && r.method === "POST").length,
    requestCount: (endpoint) =>
      requests.filter((r) => endpoint === undefined || r.endpoint === endpoint).length,
    issuedTokens: () => tokens.all(),
    injectFault: inject,
    revokeTokens: () => tokens.revokeAll(),
    close: () => {
      closing ??= (async () => {
        stopping.abort();
        for (const tenant of tenants.all) tenant.store.stopDrift();
        await Promise.all([first.close(), second?.close()]);
      })();
      return closing;
    },
  };
}

const closeFirst = (first: HttpsListener) => async (err: unknown) => {
  await first.close();
  throw err;
};
