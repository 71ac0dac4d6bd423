import { randomUUID } from "node:crypto";
import type { ActionStore } from "./action-store.js";
import type { Reply } from "./entra.js";
import { isoUtc, type MachineAction, TERMINAL_STATUSES } from "./machine-action.js";
import { evaluateFilter, ODataFilterError, parseFilter } from "./odata-filter.js";
import { GUID_RE } from "./rng.js";

/** Defender never documents cancelling a finished action; each answer seen in the wild is selectable. */
export type TerminalCancelMode = "400" | "403" | "200";

export interface DefenderContext {
  store: ActionStore;
  terminalCancel: TerminalCancelMode;
  /** Items per page when the client sends no $top. */
  pageSize: number;
  /** `https://host:port` as the client addressed us, for @odata links. */
  base: string;
  /** The calling application, recorded as cancellationRequestor. */
  clientId: string;
  now: () => number;
}

export const MAX_TOP = 10_000;

/** Every Defender error body: a code to branch on, free text, and a fresh correlation id in `target`. */
export function defenderError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Reply {
  return { status, body: { error: { code, message, target: randomUUID() } }, headers };
}

const entity = (ctx: DefenderContext, action: MachineAction): Reply => ({
  status: 200,
  body: { "@odata.context": `${ctx.base}/api/$metadata#MachineActions/$entity`, ...action },
});

function findAction(id: string, ctx: DefenderContext): MachineAction | Reply {
  if (!GUID_RE.test(id))
    return defenderError(400, "InvalidInput", `Invalid input: '${id}' is not a valid Guid`);
  return ctx.store.lookup(id) ?? defenderError(404, "ResourceNotFound", `Machine action ${id} was not found`);
}

const isReply = (x: MachineAction | Reply): x is Reply => "status" in x && typeof x.status === "number";

export function getAction(id: string, ctx: DefenderContext): Reply {
  const found = findAction(id, ctx);
  return isReply(found) ? found : entity(ctx, found);
}

export function cancelAction(id: string, rawBody: string, ctx: DefenderContext): Reply {
  if (!GUID_RE.test(id)) return findAction(id, ctx) as Reply;
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return defenderError(400, "InvalidRequestBody", "Request body is incorrect");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return defenderError(400, "InvalidRequestBody", "Request body is incorrect");
  }
  // Body parameter names are case-sensitive in Defender: `comment` is as good as missing.
  const comment = (body as Record<string, unknown>).Comment;
  if (typeof comment !== "string" || comment.trim() === "") {
    return defenderError(400, "MissingRequiredParameter", "Parameter Comment is missing");
  }
  const found = findAction(id, ctx);
  if (isReply(found)) return found;
  if (TERMINAL_STATUSES.has(found.status)) {
    if (ctx.terminalCancel === "200") return entity(ctx, found);
    const message = `Action ${id} is already in a final state (${found.status}) and cannot be cancelled`;
    return ctx.terminalCancel === "403"
      ? defenderError(403, "DisallowedOperation", message)
      : defenderError(400, "BadRequest", message);
  }
  const updated = ctx.store.update(id, {
    status: "Cancelled",
    cancellationRequestor: ctx.clientId,
    cancellationComment: comment,
    cancellationDateTimeUtc: isoUtc(ctx.now()),
  });
  return updated
    ? entity(ctx, updated)
    : defenderError(404, "ResourceNotFound", `Machine action ${id} was not found`);
}

const ORDERABLE = ["creationDateTimeUtc", "lastUpdateDateTimeUtc"] as const;

/** GET /api/machineactions with $filter, $top, $skip, $orderby (dates only) and $count. */
export function listActions(query: URLSearchParams, ctx: DefenderContext): Reply {
  const filterText = query.get("$filter");
  const orderText = query.get("$orderby");
  let items: MachineAction[];
  try {
    const expr = filterText === null ? undefined : parseFilter(filterText);
    // A state check names its ids: looked up, not found by scanning every action (as Defender's index would).
    if (expr?.kind === "in" && expr.field === "id")
      items = [...new Set(expr.values.map((v) => v.toLowerCase()))].flatMap(
        (id) => ctx.store.lookup(id) ?? [],
      );
    else items = ctx.store.list(expr && ((action) => evaluateFilter(expr, action)));
    if (orderText !== null) items = sortBy(items, orderText);
  } catch (err) {
    if (err instanceof ODataFilterError)
      return defenderError(400, "ODataError", `Invalid filter clause: ${err.message}`);
    throw err;
  }
  const top = nonNegativeInt(query.get("$top"));
  const skip = nonNegativeInt(query.get("$skip"));
  if (top === null || skip === null) {
    return defenderError(400, "ODataError", "$top and $skip must be non-negative integers");
  }
  if (top !== undefined && top > MAX_TOP) {
    return defenderError(400, "ODataError", `The limit of '${MAX_TOP}' for Top query has been exceeded`);
  }
  const size = top ?? ctx.pageSize;
  const from = skip ?? 0;
  const body: Record<string, unknown> = { "@odata.context": `${ctx.base}/api/$metadata#MachineActions` };
  if (query.get("$count")?.toLowerCase() === "true") body["@odata.count"] = items.length;
  body.value = items.slice(from, from + size);
  if (size > 0 && from + size < items.length) {
    // Keep $ and quotes readable, as Microsoft's own links do.
    const keep = (name: string, value: string | null) =>
      value === null ? [] : [`${name}=${encodeURIComponent(value)}`];
    const parts = [
      ...keep("$filter", filterText),
      ...keep("$orderby", orderText),
      ...keep("$count", query.get("$count")),
      ...keep("$top", top === undefined ? null : String(top)),
      `$skip=${from + size}`,
    ];
    body["@odata.nextLink"] = `${ctx.base}/api/machineactions?${parts.join("&")}`;
  }
  return { status: 200, body };
}

/** undefined when absent, null when malformed. */
function nonNegativeInt(text: string | null): number | undefined | null {
  if (text === null) return undefined;
  return /^\d{1,9}$/.test(text.trim()) ? Number(text) : null;
}

function sortBy(items: MachineAction[], orderby: string): MachineAction[] {
  const match = /^\s*(\w+)(?:\s+(asc|desc))?\s*$/i.exec(orderby);
  const field = ORDERABLE.find((f) => f.toLowerCase() === match?.[1]?.toLowerCase());
  if (!match || !field) throw new ODataFilterError(`Cannot order by '${orderby}'`, 0);
  const sign = match[2]?.toLowerCase() === "desc" ? -1 : 1;
  return [...items].sort((a, b) => sign * (Date.parse(a[field]) - Date.parse(b[field])));
}
