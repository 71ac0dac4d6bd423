import { Webhook } from "standardwebhooks";
import { callbackBody, type Delivery, WEBHOOK_SECRET_PATTERN } from "../../shared/contract/callback-event.js";
import { errorMessage, UsageError } from "../../shared/core/errors.js";
import { parseRetryAfter } from "../../shared/defender/retry-policy.js";
import { checkCallbackUrl, type GuardPolicy } from "./callback-guard.js";
import { postPinned } from "./pinned-post.js";

/** A delivery's whole exchange, lookup included (the contract's 10 s). */
export const DELIVERY_TIMEOUT_MS = 10_000;

export type AttemptOutcome =
  | { ok: true; status: number; sentAt: number }
  | {
      ok: false;
      reason: string;
      /** True when trying again cannot help: the guard refused the URL. */
      final: boolean;
      status?: number;
      retryAfterMs?: number;
      /** When the request was signed; absent when it never left. */
      sentAt?: number;
    };

/** The data of a delivery recorded without it (registered late): the finished job's result. */
export type DataSource = (delivery: Delivery) => Promise<unknown | undefined>;

/**
 * One attempt at a delivery, decided apart from what follows it: the data, the guard's check of
 * the URL (again: a name may resolve elsewhere by now), then a POST signed per Standard Webhooks
 * v1 at this moment, so each attempt carries its own `webhook-timestamp` and signature under the
 * same `webhook-id`.
 */
export class DeliveryAttempt {
  private readonly webhook: Webhook;

  constructor(
    secret: string,
    private readonly policy: GuardPolicy,
    private readonly readData: DataSource,
    private readonly timeoutMs = DELIVERY_TIMEOUT_MS,
  ) {
    if (!WEBHOOK_SECRET_PATTERN.test(secret))
      throw new UsageError(
        "INTAKE_WEBHOOK_SECRET must be whsec_ followed by the base64 of at least 24 random bytes.",
      );
    this.webhook = new Webhook(secret);
  }

  async run(id: string, delivery: Delivery): Promise<AttemptOutcome> {
    const started = Date.now();
    const data = delivery.data ?? (await this.readData(delivery));
    if (data === undefined || data === null)
      return { ok: false, reason: `the result of ${delivery.subject} cannot be read yet`, final: false };
    const target = await checkCallbackUrl(delivery.url, this.policy);
    if (!target.allowed) return { ok: false, reason: target.reason, final: !target.transient };

    // A late registration's event happened when the job finished, not when the data was read.
    const timestamp = delivery.data === null ? (finishedAt(data) ?? delivery.timestamp) : delivery.timestamp;
    const body = callbackBody({ type: delivery.type, timestamp }, data);
    const sentAt = Date.now();
    const headers = {
      "content-type": "application/json",
      "user-agent": "mde-cancel-callbacks",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(sentAt / 1000)),
      "webhook-signature": this.webhook.sign(id, new Date(sentAt), body),
    };
    try {
      const left = Math.max(1_000, this.timeoutMs - (sentAt - started));
      const answer = await postPinned(target, body, headers, left);
      if (answer.status >= 200 && answer.status < 300) return { ok: true, status: answer.status, sentAt };
      return {
        ok: false,
        reason: `the receiver answered ${answer.status}`,
        final: false,
        status: answer.status,
        retryAfterMs: parseRetryAfter(answer.retryAfter, Date.now()),
        sentAt,
      };
    } catch (err) {
      return { ok: false, reason: errorMessage(err), final: false, sentAt };
    }
  }
}

function finishedAt(data: unknown): string | undefined {
  const value = (data as { finishedAt?: unknown }).finishedAt;
  return typeof value === "string" ? value : undefined;
}
