/**
 * What to do after a request to Defender failed without an answer: send it again after a short
 * wait, or give up with one typed error. A pure decision, kept apart from the loop in
 * DefenderExchange that carries it out, so each rule reads (and is tested) on its own.
 */

import { isAxiosError } from "axios";
import { BudgetWaitError, ConnectionDroppedError, TransientError } from "../core/errors.js";
import type { Endpoint } from "./endpoints.js";

/** A GET whose kept-alive connection dropped under it goes once more, this long after. */
const RESEND_AFTER_MS = 50;
/** Attempts of one request, the first included. */
const MAX_ATTEMPTS = 2;

export type AttemptVerdict =
  | { kind: "retry"; afterMs: number }
  /** `sent: false` when nothing left this host: the call's admission can be given back. */
  | { kind: "fail"; error: unknown; sent: boolean };

export interface FailedAttempt {
  endpoint: Endpoint;
  method: "GET" | "POST";
  /** 1 for the first attempt. */
  attempt: number;
  /** The caller's signal aborted the request. */
  aborted: boolean;
}

/**
 * A GET whose kept-alive connection dropped goes again at once; a POST does not, since it may have
 * reached Defender (a second cancel would get a 400): the caller gets a ConnectionDroppedError and
 * looks at the state first.
 */
export function afterFailedAttempt(err: unknown, at: FailedAttempt): AttemptVerdict {
  // A 429 paused the endpoint while this call's connection was being opened: nothing was sent.
  if (isAxiosError(err) && err.cause instanceof BudgetWaitError)
    return { kind: "fail", error: err.cause, sent: false };
  // Otherwise the call may have reached Microsoft: it keeps its slot until its reservation ends.
  const dropped = isDroppedConnection(err);
  if (at.aborted)
    return { kind: "fail", error: dropped ? transportError(err, at.endpoint) : err, sent: true };
  if (dropped && at.method === "GET" && at.attempt < MAX_ATTEMPTS)
    return { kind: "retry", afterMs: RESEND_AFTER_MS };
  return { kind: "fail", error: transportError(err, at.endpoint), sent: true };
}

function isDroppedConnection(err: unknown): boolean {
  return isAxiosError(err) && (err.code === "ECONNRESET" || err.code === "EPIPE") && !err.response;
}

function transportError(err: unknown, endpoint: Endpoint): TransientError {
  const code = isAxiosError(err) ? err.code : undefined;
  const message = `${endpoint} request failed: ${code ?? (err as Error)?.message ?? "network error"}`;
  return isDroppedConnection(err) ? new ConnectionDroppedError(message) : new TransientError(message);
}
