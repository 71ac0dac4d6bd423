import { Counter, type Registry } from "prom-client";
import { CALLBACK_EVENTS, type CallbackEvent } from "../../shared/contract/callback-event.js";

/** What became of one delivery attempt. */
export const ATTEMPT_RESULTS = ["delivered", "retrying", "failed", "dropped"] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];

/** What the delivery worker reports; `serve` wires its metrics here, tests their own probe. */
export interface DeliveryHooks {
  onAttempt?(result: AttemptResult, type: CallbackEvent): void;
}

/**
 * Callback attempts on whatever registry `serve` exposes at /metrics. `failed` counts deliveries
 * given up (410, a refused address, the schedule run out); `retrying` each attempt that failed
 * but will be tried again.
 */
export class CallbackMetrics implements DeliveryHooks {
  private readonly attempts: Counter<"type" | "result">;

  constructor(registry: Registry) {
    this.attempts = new Counter({
      name: "mde_callback_attempts_total",
      help: "Callback delivery attempts, by event type and result (delivered, retrying, failed, dropped).",
      labelNames: ["type", "result"],
      registers: [registry],
    });
    // Zero series from the start, so alerts on rate(...{result="failed"}) work before the first failure.
    for (const type of CALLBACK_EVENTS)
      for (const result of ATTEMPT_RESULTS) this.attempts.inc({ type, result }, 0);
  }

  readonly onAttempt = (result: AttemptResult, type: CallbackEvent): void => {
    this.attempts.inc({ type, result });
  };
}
