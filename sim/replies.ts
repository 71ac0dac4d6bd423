import type { IncomingMessage, ServerResponse } from "node:http";
import { defenderError } from "./defender-api.js";
import { entraError, type Reply } from "./entra.js";
import type { AppliedFault, RouteKind } from "./faults.js";

const MAX_BODY = 1 << 20;

const DEFENDER_CODES: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  429: "TooManyRequests",
  500: "InternalServerError",
  503: "ServiceUnavailable",
};

/** The answer of an injected or random fault: its own body if it has one, else the endpoint's usual error shape. */
export function faultReply(fault: AppliedFault, kind: RouteKind): Reply {
  const status = fault.status ?? 500;
  const headers = fault.headers ?? (status === 429 ? { "Retry-After": "1" } : undefined);
  if (fault.body !== undefined) return { status, body: fault.body, headers };
  if (kind === "token" || kind === "openid") {
    const transient = status === 429 || status >= 500;
    const reply = transient
      ? entraError(status, "temporarily_unavailable", 90033, "A transient error has occurred.")
      : entraError(status, "invalid_request", 900144, "Simulated fault.");
    return { ...reply, headers };
  }
  const code = DEFENDER_CODES[status] ?? (status >= 500 ? "InternalServerError" : "BadRequest");
  return defenderError(status, code, `Simulated fault ${status}`, headers);
}

/** The whole body as text, or undefined when it exceeds 1 MiB. */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export const CONTENT_TYPES = {
  json: "application/json; charset=utf-8",
  entra: "application/json; charset=utf-8",
  odata:
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8",
};

export function send(res: ServerResponse, reply: Reply, flavour: keyof typeof CONTENT_TYPES): void {
  const text = typeof reply.body === "string";
  const payload = reply.body === undefined ? "" : text ? String(reply.body) : JSON.stringify(reply.body);
  const type =
    reply.body === undefined
      ? {}
      : { "Content-Type": text ? "text/plain; charset=utf-8" : CONTENT_TYPES[flavour] };
  res.writeHead(reply.status, { ...type, "Content-Length": Buffer.byteLength(payload), ...reply.headers });
  res.end(payload);
}
