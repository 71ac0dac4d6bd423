import type { ActionStore } from "./action-store.js";
import { defenderError } from "./defender-api.js";
import type { Reply, TokenRegistry } from "./entra.js";
import { type FaultPlan, faultFromJson } from "./faults.js";
import { ACTION_STATUSES, type ActionStatus, type NewAction } from "./machine-action.js";
import type { RecordedRequest } from "./recorded-request.js";
import { GUID_RE } from "./rng.js";

export interface AdminDeps {
  store: ActionStore;
  requests: RecordedRequest[];
  faults: FaultPlan;
  tokens: TokenRegistry;
}

/**
 * Unauthenticated control routes under /_sim/, so tests in other processes and playbook authors can
 * script the simulator over HTTP. They are neither recorded, delayed nor faulted.
 */
export function adminReply(method: string, path: string, rawBody: string, deps: AdminDeps): Reply {
  const statusRoute = /^\/_sim\/actions\/([^/]+)\/status$/.exec(path);
  const actionRoute = /^\/_sim\/actions\/([^/]+)$/.exec(path);
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
      return { status: 201, body: { pending: deps.faults.pending } };
    }
    if (method === "POST" && path === "/_sim/actions") {
      return { status: 201, body: deps.store.add(actionFromJson(parseJson(rawBody))) };
    }
    if (method === "GET" && actionRoute?.[1]) {
      const action = deps.store.get(actionRoute[1]);
      return action
        ? { status: 200, body: action }
        : defenderError(404, "ResourceNotFound", "no such action");
    }
    if (method === "POST" && statusRoute?.[1]) {
      const { status } = parseJson(rawBody) as { status?: unknown };
      const updated = deps.store.setStatus(statusRoute[1], checkStatus(status));
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
