/**
 * Where `callbackUrl`s go: GuardedCallbackRegistry (intake/callbacks/) implements this port; the
 * routes only ask whether a URL is allowed, hand it over, and forward unsubscribes.
 */
export interface CallbackRegistry {
  /** Why `url` may not be a callback target (one sentence, read after "callbackUrl"), or undefined. */
  check(url: string): Promise<string | undefined>;
  /** Calls `url` back when the job or campaign finishes. */
  register(target: { jobId: string } | { campaignId: string }, url: string): Promise<void>;
  /** Drops the pending callback of a job; false when it had none. Never touches the cancel. */
  drop(jobId: string): Promise<boolean>;
}
