/**
 * Where `callbackUrl`s go: the callbacks room (signing, SSRF guard, delivery) implements this
 * port; the intake only asks whether a URL is allowed, hands it over, and forwards unsubscribes.
 */
export interface CallbackRegistry {
  /** Why `url` may not be a callback target (one sentence, read after "callbackUrl"), or undefined. */
  check(url: string): Promise<string | undefined>;
  /** Calls `url` back when the job or campaign finishes. */
  register(target: { jobId: string } | { campaignId: string }, url: string): Promise<void>;
  /** Drops the pending callback of a job; false when it had none. Never touches the cancel. */
  drop(jobId: string): Promise<boolean>;
}

/**
 * Until the callbacks room is wired in: without INTAKE_WEBHOOK_SECRET every callbackUrl is
 * refused (the contract); with it, URLs are accepted and nothing is delivered yet.
 */
export class PendingCallbackRegistry implements CallbackRegistry {
  constructor(private readonly webhookSecret: string | undefined) {}

  async check(): Promise<string | undefined> {
    return this.webhookSecret
      ? undefined
      : "cannot be used: this service has no INTAKE_WEBHOOK_SECRET to sign callbacks; poll statusUrl instead";
  }

  async register(): Promise<void> {}

  async drop(): Promise<boolean> {
    return false;
  }
}
