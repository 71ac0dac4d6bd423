import type { RateWindow } from "../shared/config/durations.js";
import type { Endpoint } from "../shared/defender/endpoints.js";

/** Microsoft's documented limits for cancel, get and list: 100 calls per minute and 1500 per hour. */
export const DEFAULT_RATE_LIMITS: readonly RateWindow[] = [
  { limit: 100, windowMs: 60_000 },
  { limit: 1500, windowMs: 3_600_000 },
];

export type QuotaDecision =
  | { allowed: true }
  | { allowed: false; retryAfterSec: number; window: RateWindow; endpoint: Endpoint };

/**
 * Sliding-window call counting per (tenant, endpoint), as Defender enforces it: "per API" and "on the
 * combination of application+tenant". A call counts when it arrives; a refused call does not use budget,
 * so a client that honours Retry-After gets through exactly when the oldest call leaves the window.
 */
export class Quota {
  private readonly calls = new Map<string, number[]>();
  private readonly windows: readonly RateWindow[];
  private readonly longestMs: number;

  constructor(
    windows: readonly RateWindow[] = DEFAULT_RATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    for (const w of windows) {
      if (!(w.limit >= 1 && w.windowMs > 0)) throw new RangeError(`invalid rate window ${JSON.stringify(w)}`);
    }
    this.windows = windows;
    this.longestMs = Math.max(0, ...windows.map((w) => w.windowMs));
  }

  /** Counts one call if every window has room; otherwise says how long until the tightest one does. */
  take(tenant: string, endpoint: Endpoint): QuotaDecision {
    const key = `${tenant}\u0000${endpoint}`;
    const now = this.now();
    const times = this.prune(key, now);
    let refusal: QuotaDecision = { allowed: true };
    for (const window of this.windows) {
      const inWindow = times.filter((t) => t > now - window.windowMs);
      if (inWindow.length < window.limit) continue;
      // The call that must leave before one more fits is the (count - limit)-th oldest in the window.
      const leaving = inWindow[inWindow.length - window.limit] ?? now;
      const retryAfterSec = Math.max(1, Math.ceil((leaving + window.windowMs - now) / 1000));
      if (refusal.allowed || retryAfterSec > refusal.retryAfterSec) {
        refusal = { allowed: false, retryAfterSec, window, endpoint };
      }
    }
    if (refusal.allowed) times.push(now);
    return refusal;
  }

  /** Calls counted in the last `windowMs` for a key; for tests and diagnostics. */
  used(tenant: string, endpoint: Endpoint, windowMs = this.longestMs): number {
    const now = this.now();
    return this.prune(`${tenant}\u0000${endpoint}`, now).filter((t) => t > now - windowMs).length;
  }

  reset(): void {
    this.calls.clear();
  }

  private prune(key: string, now: number): number[] {
    let times = this.calls.get(key);
    if (!times) {
      times = [];
      this.calls.set(key, times);
    }
    const firstKept = times.findIndex((t) => t > now - this.longestMs);
    times.splice(0, firstKept === -1 ? times.length : firstKept);
    return times;
  }
}
