import { createHash } from "node:crypto";

/** The callbacks the contract promises (Standard Webhooks v1), as they travel. */

/**
 * INTAKE_WEBHOOK_SECRET as Standard Webhooks shows secrets: `whsec_` and the base64 of the key,
 * at least 24 bytes as the spec asks (32 base64 characters).
 */
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/;

export const CALLBACK_EVENTS = ["cancel.finished", "campaign.finished"] as const;
export type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

/**
 * A delivery recorded for `serve` to send: the job data of the callbacks queue. `data` is the
 * result or the campaign summary; null when the registration came after the job had finished,
 * so the sender reads the result from the finished job itself.
 */
export interface Delivery {
  url: string;
  type: CallbackEvent;
  /** ISO-8601: when the event happened; the body carries it unchanged across retries. */
  timestamp: string;
  /** The cancel job id or campaign id the event is about. */
  subject: string;
  data: unknown;
}

/**
 * The `webhook-id`, stable across retries and unique per event: derived from the subject, never
 * containing `.` (the signed content separates fields with it) or `:` (BullMQ refuses it in job
 * ids, and the id is the delivery's job id too). `version` tells apart a campaign name reused
 * after its record expired.
 */
export function webhookId(type: CallbackEvent, subject: string, version = ""): string {
  const digest = createHash("sha256").update(`${type}\n${subject}\n${version}`).digest("hex");
  return `msg_${digest.slice(0, 32)}`;
}

/** The exact bytes signed and sent: `{"type","timestamp","data"}`. */
export function callbackBody(delivery: Pick<Delivery, "type" | "timestamp">, data: unknown): string {
  return JSON.stringify({ type: delivery.type, timestamp: delivery.timestamp, data });
}

/** The callback URL for logs: its origin only, since the path or query often carries a capability token. */
export function describeCallbackUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(unparseable callbackUrl)";
  }
}
