import type { ActionStore } from "./action-store.js";
import {
  cancelAction,
  defenderError,
  getAction,
  listActions,
  type TerminalCancelMode,
} from "./defender-api.js";
import {
  type EntraConfig,
  openIdConfiguration,
  type Reply,
  type TokenRegistry,
  tokenReply,
  unknownTenant,
} from "./entra.js";
import type { Quota } from "./quota.js";
import type { Route } from "./routing.js";

/** The state a request may read or change; the transport (TLS, faults, latency) lives in server.ts. */
export interface DispatchDeps {
  store: ActionStore;
  quota: Quota;
  tokens: TokenRegistry;
  entra: EntraConfig;
  pageSize: number;
  terminalCancel: TerminalCancelMode;
}

export interface Call {
  method: string;
  route: Route;
  query: URLSearchParams;
  rawBody: string;
  /** `https://host:port` as the client addressed us: issuer, token_endpoint and links are built from it. */
  base: string;
  authorization: string | undefined;
}

const METHODS = { openid: "GET", token: "POST", get: "GET", cancel: "POST", list: "GET" } as const;

/** Answers one Entra or Defender request; `tenant` is who the call is attributed to, when known. */
export function dispatch(call: Call, deps: DispatchDeps): { reply: Reply; tenant?: string } {
  const { route, method } = call;
  if (route.kind === "other") return { reply: defenderError(404, "NotFound", "No such resource") };
  if (method !== METHODS[route.kind]) {
    return { reply: defenderError(405, "MethodNotAllowed", `${method} is not allowed here`) };
  }
  if (route.kind === "openid" || route.kind === "token") return { reply: entraReply(call, deps) };

  const token = /^Bearer\s+(\S+)$/i.exec(call.authorization ?? "")?.[1];
  const grant = token === undefined ? undefined : deps.tokens.verify(token);
  if (!grant) {
    return {
      reply: defenderError(401, "Unauthorized", "The authorization header is missing, invalid or expired"),
    };
  }
  const tenant = grant.tenant;
  // Counted after authentication: Microsoft can only attribute a call to an app and tenant by its token.
  const decision = deps.quota.take(tenant, route.kind);
  if (!decision.allowed) {
    const { limit, windowMs } = decision.window;
    const retryAfter = String(decision.retryAfterSec);
    const message = `Rate limit of ${limit} calls per ${windowMs / 1000} s is exceeded for ${route.kind}. Try again in ${retryAfter} seconds.`;
    return { reply: defenderError(429, "TooManyRequests", message, { "Retry-After": retryAfter }), tenant };
  }
  const ctx = {
    store: deps.store,
    terminalCancel: deps.terminalCancel,
    pageSize: deps.pageSize,
    base: call.base,
    clientId: grant.clientId,
    now: Date.now,
  };
  if (route.kind === "list") return { reply: listActions(call.query, ctx), tenant };
  if (route.kind === "cancel") return { reply: cancelAction(route.id ?? "", call.rawBody, ctx), tenant };
  return { reply: getAction(route.id ?? "", ctx), tenant };
}

function entraReply(call: Call, deps: DispatchDeps): Reply {
  const tenant = call.route.tenant ?? "";
  // Entra accepts the tenant id in any case; the configured spelling is what the issuer carries.
  if (tenant.toLowerCase() !== deps.entra.tenantId.toLowerCase()) return unknownTenant(tenant);
  if (call.route.kind === "openid") return { status: 200, body: openIdConfiguration(call.base, tenant) };
  const form = Object.fromEntries(new URLSearchParams(call.rawBody));
  return tokenReply(form, `${call.base}/${tenant}/oauth2/v2.0/token`, deps.entra, deps.tokens);
}
