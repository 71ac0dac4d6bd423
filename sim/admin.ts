import { defenderError } from "./defender-api.js";
import type { Reply } from "./entra.js";
import { type Fault, faultFromJson } from "./faults.js";
import { ACTION_STATUSES, type ActionStatus, type NewAction } from "./machine-action.js";
import type { RecordedRequest } from "./recorded-request.js";
import { GUID_RE } from "./rng.js";
import type { AppRegistration } from "./sim-tenant.js";
import type { TenantSet } from "./tenant-set.js";
import type { TokenRegistry } from "./token-registry.js";

export interface AdminDeps {
  tenants: TenantSet;
  requests: RecordedRequest[];
  faults: { inject(fault: Fault): void; pending(): number };
  tokens: TokenRegistry;
}

/**
 * Unauthenticated control routes under /_sim/, so tests in other processes and playbook authors can
 * script the simulator over HTTP. They are neither recorded, delayed nor faulted.
 */
export function adminReply(method: string, url: URL, rawBody: string, deps: AdminDeps): Reply {
  const path = url.pathname;
  const statusRoute = /^\/_sim\/actions\/([^/]+)\/status$/.exec(path);
  const actionRoute = /^\/_sim\/actions\/([^/]+)$/.exec(path);
  const tenantRoute = /^\/_sim\/tenants\/([^/]+)$/.exec(path);
  // Action routes act on the first tenant unless ?tenant=<id or name> says otherwise.
  const named = url.searchParams.get("tenant") ?? tenantRoute?.[1];
  const tenant = named === null || named === undefined ? deps.tenants.primary : deps.tenants.get(named);
  if (!tenant)
    return defenderError(404, "NotFound", `no simulated tenant is called ${JSON.stringify(named)}`);
  const store = tenant.store;
  try {
    if (method === "GET" && path === "/_sim/requests") return { status: 200, body: deps.requests };
    if (method === "POST" && path === "/_sim/reset-requests") {
      deps.requests.length = 0;
      return { status: 204 };
    }
    if (method === "POST" && path === "/_sim/revoke-tokens") {
      deps.tokens.revokeAll();
      return { status: 204 };
    }
    if (method === "POST" && path === "/_sim/faults") {
      deps.faults.inject(faultFromJson(parseJson(rawBody)));
      return { status: 201, body: { pending: deps.faults.pending() } };
    }
    if (method === "GET" && path === "/_sim/tenants")
      return { status: 200, body: deps.tenants.all.map((t) => t.describe()) };
    if (method === "POST" && tenantRoute) {
      tenant.update(registrationFromJson(parseJson(rawBody)));
      return { status: 200, body: tenant.describe() };
    }
    if (method === "POST" && path === "/_sim/actions") {
      return { status: 201, body: store.add(actionFromJson(parseJson(rawBody))) };
    }
    if (method === "GET" && actionRoute?.[1]) {
      const action = store.get(actionRoute[1]);
      return action
        ? { status: 200, body: action }
        : defenderError(404, "ResourceNotFound", "no such action");
    }
    if (method === "POST" && statusRoute?.[1]) {
      const { status } = parseJson(rawBody) as { status?: unknown };
      const updated = store.setStatus(statusRoute[1], checkStatus(status));
      return updated
        ? { status: 200, body: updated }
        : defenderError(404, "ResourceNotFound", "no such action");
    }
    return defenderError(404, "NotFound", `no admin route ${method} ${path}`);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) {
      return defenderError(400, "InvalidRequestBody", err.message);
    }
    throw err;
  }
}

function parseJson(raw: string): unknown {
  return JSON.parse(raw || "{}");
}

function checkStatus(status: unknown): ActionStatus {
  if (!ACTION_STATUSES.includes(status as ActionStatus)) {
    throw new TypeError(`status must be one of ${ACTION_STATUSES.join(", ")}`);
  }
  return status as ActionStatus;
}

function actionFromJson(input: unknown): NewAction {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError("the action must be a JSON object");
  }
  const partial = input as NewAction;
  if (partial.id !== undefined && !(typeof partial.id === "string" && GUID_RE.test(partial.id))) {
    throw new TypeError("id must be a GUID");
  }
  if (partial.status !== undefined) checkStatus(partial.status);
  if (partial.visibleAfter !== undefined && typeof partial.visibleAfter !== "number") {
    throw new TypeError("visibleAfter must be epoch milliseconds");
  }
  return partial;
}

/** A change to a tenant's app registration: `clientId`, `clientSecret` and `roles` (no certificates over HTTP). */
function registrationFromJson(input: unknown): Partial<AppRegistration> {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new TypeError("the change must be a JSON object");
  const { clientId, clientSecret, roles, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new TypeError(`unknown fields ${unknown.join(", ")}: give clientId, clientSecret or roles`);
  if (clientId !== undefined && !(typeof clientId === "string" && GUID_RE.test(clientId)))
    throw new TypeError("clientId must be a GUID");
  if (clientSecret !== undefined && !(typeof clientSecret === "string" && clientSecret !== ""))
    throw new TypeError("clientSecret must be a non-empty string");
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === "string")))
    throw new TypeError("roles must be an array of strings");
  const change: Partial<AppRegistration> = {};
  if (clientId !== undefined) change.clientId = (clientId as string).toLowerCase();
  if (clientSecret !== undefined) change.clientSecret = clientSecret as string;
  if (roles !== undefined) change.roles = roles as string[];
  return change;
}
