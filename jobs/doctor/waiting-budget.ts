import { sleep } from "../../shared/core/sleep.js";
import type { Budget } from "../../shared/defender/defender-client.js";
import type { Endpoint } from "../../shared/defender/endpoints.js";
import type { RateLimiter, TakeResult } from "../../shared/redis/rate-limiter.js";

/**
 * The shared limiter, waiting for budget up to `maxWaitMs` instead of refusing at once, as a
 * one-shot command may (a worker delays the job instead). A refusal whose wait would end past
 * the deadline is passed on at once: the call is not made, and `refusal` says why. The limiter
 * promised that refusal a slot it will not use: later callers queue behind it until it lapses.
 */
export class WaitingBudget implements Budget {
  refusal: Extract<TakeResult, { ok: false }> | undefined;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly maxWaitMs: number,
  ) {}

  async take(tenantId: string, endpoint: Endpoint, options?: { campaign?: boolean }): Promise<TakeResult> {
    const deadline = Date.now() + this.maxWaitMs;
    for (;;) {
      const taken = await this.limiter.take(tenantId, endpoint, options);
      if (taken.ok) return taken;
      if (Date.now() + taken.waitMs > deadline) {
        this.refusal = taken;
        return taken;
      }
      await sleep(taken.waitMs);
    }
  }

  pause(tenantId: string, endpoint: Endpoint, ms: number): Promise<void> {
    return this.limiter.pause(tenantId, endpoint, ms);
  }

  pausedForMs(tenantId: string, endpoint: Endpoint): Promise<number> {
    return this.limiter.pausedForMs(tenantId, endpoint);
  }
}
