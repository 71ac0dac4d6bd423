/**
 * What a Defender answer stands for: data, or one typed error of errors.ts. Kept apart from the
 * client so the mapping stays a pure function of the answer, testable without HTTP.
 */

import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  ThrottledError,
  TransientError,
  UnauthorizedError,
  type UpstreamDetail,
  type UpstreamError,
  UrlTooLongError,
} from "../core/errors.js";
import type { Endpoint } from "./endpoints.js";
import { throttleWaitMs } from "./retry-policy.js";

/** The typed error an answer stands for, or undefined for a success. */
export function responseError(
  endpoint: Endpoint,
  status: number,
  retryAfter: string | undefined,
  data: unknown,
  nowMs: number,
): UpstreamError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const body = errorBody(data);
  const detail: UpstreamDetail = { httpStatus: status, code: body.code, target: body.target };
  const what = `Defender answered ${status}${body.code ? ` ${body.code}` : ""} to ${endpoint}`;
  if (status === 429 || (status === 503 && retryAfter !== undefined))
    return new ThrottledError(what, throttleWaitMs(retryAfter, nowMs), detail);
  if (status === 404) return new NotFoundError(what, detail);
  if (status === 414 || (status === 400 && namesUrl(body.message ?? data)))
    return new UrlTooLongError(`${what}: request URL too long`, detail);
  if (status === 401) return new UnauthorizedError(`${what} after a token refresh`, detail);
  if (status === 403) return new ForbiddenError(what, detail);
  if (status === 408 || status >= 500) return new TransientError(what, detail);
  return new BadRequestError(what, detail);
}

/** The OData error of an answer's body, each field cut to 500 characters; empty when there is none. */
export function errorBody(data: unknown): { code?: string; message?: string; target?: string } {
  const error = (data as { error?: unknown } | undefined)?.error;
  if (!error || typeof error !== "object") return {};
  const e = error as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v.slice(0, 500) : undefined);
  return { code: text(e.code), message: text(e.message), target: text(e.target) };
}

/** A 400 from a front door (IIS, a gateway) whose text says the URL or request line was refused. */
function namesUrl(text: unknown): boolean {
  return (
    typeof text === "string" &&
    /request[- ]?ur[il]\b.*\b(too long|too large|invalid)|request line|url too long|RequestUriTooLong/i.test(
      text.slice(0, 2000),
    )
  );
}
