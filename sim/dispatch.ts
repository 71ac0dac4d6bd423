import type { Endpoint } from "../shared/defender/endpoints.js";
import {
  cancelAction,
  defenderError,
  getAction,
  listActions,
  type TerminalCancelMode,
} from "./defender-api.js";
import { openIdConfiguration, type Reply, tokenReply, unknownTenant } from "./entra.js";
import type { Route } from "./routing.js";
import { type AuthorityName, CANCEL_ROLES, READ_ROLES, type SimTenant } from "./sim-tenant.js";
import type { TenantSet } from "./tenant-set.js";
import type { TokenRegistry } from "./token-registry.js";

/** The state a request may read or change; the transport (TLS, faults, latency) lives in server.ts. */
export interface DispatchDeps {
  tenants: TenantSet;
  tokens: TokenRegistry;
  tokenTtlSec: number;
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
  /** Which host took the request: each serves its own cloud's tenants only. */
  authority: AuthorityName;
  authorization: string | undefined;
}

const METHODS = { openid: "GET", token: "POST", get: "GET", cancel: "POST", list: "GET" } as const;

/** Any one of these roles lets a token call the endpoint (Microsoft: "any of" the permissions). */
const ENDPOINT_ROLES: Record<Endpoint, readonly string[]> = {
  get: READ_ROLES,
  list: READ_ROLES,
  cancel: CANCEL_ROLES,
};

/** Answers one Entra or Defender request; `tenant` is who the call is attributed to, when known. */
export function dispatch(call: Call, deps: DispatchDeps): { reply: Reply; tenant?: string } {
  const { route, method } = call;
  if (route.kind === "other") return { reply: defenderError(404, "NotFound", "No such resource") };
  if (method !== METHODS[route.kind]) {
    return { reply: defenderError(405, "MethodNotAllowed", `${method} is not allowed here`) };
  }
  if (route.kind === "openid" || route.kind === "token") return { reply: entraReply(call, deps) };

  const grant = bearerGrant(call.authorization, deps.tokens);
  const tenant = grant && deps.tenants.get(grant.tenant);
  // Defender, like every Microsoft API, finds the tenant in the token; a token of another cloud is not valid here.
  if (!grant || !tenant || tenant.authority !== call.authority) {
    return {
      reply: defenderError(401, "Unauthorized", "The authorization header is missing, invalid or expired"),
    };
  }
  const needed = ENDPOINT_ROLES[route.kind];
  if (!grant.roles.some((role) => needed.includes(role))) {
    const message = `The application does not have any of the required application permissions (${needed.join(", ")}) to access the resource.`;
    return { reply: defenderError(403, "Forbidden", message), tenant: grant.tenant };
  }
  // Counted after authentication: Microsoft can only attribute a call to an app and tenant by its token.
  const decision = tenant.quota.take(grant.tenant, route.kind);
  if (!decision.allowed) {
    const { limit, windowMs } = decision.window;
    const retryAfter = String(decision.retryAfterSec);
    const message = `Rate limit of ${limit} calls per ${windowMs / 1000} s is exceeded for ${route.kind}. Try again in ${retryAfter} seconds.`;
    return {
      reply: defenderError(429, "TooManyRequests", message, { "Retry-After": retryAfter }),
      tenant: grant.tenant,
    };
  }
  const ctx = {
    store: tenant.store,
    terminalCancel: deps.terminalCancel,
    pageSize: deps.pageSize,
    base: call.base,
    clientId: grant.clientId,
    now: Date.now,
  };
  const reply =
    route.kind === "list"
      ? listActions(call.query, ctx)
      : route.kind === "cancel"
        ? cancelAction(route.id ?? "", call.rawBody, ctx)
        : getAction(route.id ?? "", ctx);
  return { reply, tenant: grant.tenant };
}

/** The tenant a Defender request's bearer token belongs to, before anything else looks at it. */
export function bearerGrant(authorization: string | undefined, tokens: TokenRegistry) {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  return token === undefined ? undefined : tokens.verify(token);
}

/**
 * The tenant whose id (any case) an Entra path names, if this host serves it: another cloud's
 * tenant is unknown here, as a cross-cloud request is to Entra ID.
 */
export function entraTenant(
  call: Pick<Call, "route" | "authority">,
  tenants: TenantSet,
): SimTenant | undefined {
  const segment = call.route.tenant ?? "";
  const tenant = tenants.get(segment);
  const served = tenant?.authority === call.authority && tenant.id.toLowerCase() === segment.toLowerCase();
  return served ? tenant : undefined;
}

function entraReply(call: Call, deps: DispatchDeps): Reply {
  // Entra accepts the tenant id in any case; the configured spelling is what tokens carry.
  const segment = call.route.tenant ?? "";
  const tenant = entraTenant(call, deps.tenants);
  if (!tenant) return unknownTenant(segment);
  if (call.route.kind === "openid") {
    const cloud = tenant.authority === "second" ? "microsoftonline.us" : "microsoftonline.com";
    return { status: 200, body: openIdConfiguration(call.base, segment, cloud) };
  }
  const form = Object.fromEntries(new URLSearchParams(call.rawBody));
  const entra = { tenantId: tenant.id, ...tenant.app, tokenTtlSec: deps.tokenTtlSec };
  return tokenReply(form, `${call.base}/${segment}/oauth2/v2.0/token`, entra, deps.tokens);
}
