import type { CallbackStore } from "../../shared/redis/callback-store.js";
import type { CallbackRegistry } from "../callback-registry.js";
import { checkCallbackUrl, type Resolver, systemResolver } from "./callback-guard.js";

export interface GuardedRegistryOptions {
  /** INTAKE_WEBHOOK_SECRET: without it no callbackUrl is accepted (nothing could sign it). */
  secret?: string;
  /** INTAKE_CALLBACK_HOSTS. */
  allowedHosts: readonly string[];
  callbacks: Pick<CallbackStore, "registerJob" | "registerCampaign" | "drop">;
  /** Default: the system resolver. */
  resolve?: Resolver;
}

/**
 * The intake's callback port: the same guard that runs before every delivery decides at request
 * time (a refusal is one sentence read after "callbackUrl", for a 400), then registrations go to
 * Redis, where workers record deliveries for `serve` to send.
 */
export class GuardedCallbackRegistry implements CallbackRegistry {
  constructor(private readonly options: GuardedRegistryOptions) {}

  async check(url: string): Promise<string | undefined> {
    if (!this.options.secret)
      return "cannot be used: this service has no INTAKE_WEBHOOK_SECRET to sign callbacks; poll statusUrl instead";
    const decision = await checkCallbackUrl(url, {
      allowedHosts: this.options.allowedHosts,
      resolve: this.options.resolve ?? systemResolver,
    });
    return decision.allowed ? undefined : decision.reason.replace(/^callbackUrl /, "");
  }

  /** Call right after the job was enqueued or the campaign started: what finished meanwhile is delivered too. */
  async register(target: { jobId: string } | { campaignId: string }, url: string): Promise<void> {
    if ("jobId" in target) await this.options.callbacks.registerJob(target.jobId, url);
    else await this.options.callbacks.registerCampaign(target.campaignId, url);
  }

  /** Drops the job's pending callback; the cancel goes on. False when it had none. */
  drop(jobId: string): Promise<boolean> {
    return this.options.callbacks.drop(jobId);
  }
}
