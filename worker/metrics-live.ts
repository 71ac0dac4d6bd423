import { Counter, Gauge, type Registry } from "prom-client";
import { OperationalError } from "../shared/core/errors.js";
import { withTimeout } from "../shared/core/with-timeout.js";
import { ENDPOINTS, type Endpoint } from "../shared/defender/endpoints.js";
import type { RateLimiterStatus } from "../shared/redis/rate-limiter-status.js";

type WindowStatus = RateLimiterStatus["windows"][number];

import type { MetricsSources, MetricsTenant } from "./metrics.js";

/** A Redis that stopped answering must not make the scrape time out: its series go missing instead. */
const SCRAPE_TIMEOUT_MS = 2_000;

/** Metrics read from their source on each scrape (shared state in Redis, the token count). */
export function registerLiveMetrics(registers: Registry[], sources: MetricsSources): void {
  // prom-client collects every metric at once: the three limiter gauges share one round of status
  // calls, every tenant's endpoints at once (on one connection, so they travel together).
  type Budget = [MetricsTenant, Endpoint, RateLimiterStatus | undefined];
  let pending: Promise<Budget[]> | undefined;
  const limiterStatus = () => {
    pending ??= Promise.all(
      sources
        .tenants()
        .flatMap((t) =>
          ENDPOINTS.map(async (e): Promise<Budget> => [t, e, await settle(t.limiter.status(t.tenantId, e))]),
        ),
    ).finally(() => {
      pending = undefined;
    });
    return pending;
  };
  new Counter({
    name: "mde_tokens_acquired_total",
    help: "Access tokens acquired from Entra ID (not served from msal's cache).",
    registers,
    collect() {
      this.reset();
      this.inc(sources.tokens.acquired);
    },
  });
  new Gauge({
    name: "mde_redis_up",
    help: "1 when Redis answered PING during this scrape, else 0.",
    registers,
    async collect() {
      this.set((await settle(sources.ping())) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: "mde_cancel_queue_jobs",
    help: "Jobs in the cancel queue, by BullMQ state.",
    labelNames: ["state"],
    registers,
    async collect() {
      this.reset();
      const counts = await settle(sources.queue.getJobCounts());
      for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "mde_cancel_queue_oldest_waiting_seconds",
    help: "Age since enqueue of the oldest job in the wait list (unprioritized jobs); 0 when empty, NaN when Redis did not answer.",
    registers,
    async collect() {
      const oldest = await settle(sources.queue.getWaiting(0, 0));
      // An unlabelled gauge cannot go missing; NaN says "unknown" where 0 would say "nothing waits".
      if (!oldest) this.set(Number.NaN);
      else this.set(oldest[0] ? Math.max(0, (Date.now() - oldest[0].timestamp) / 1000) : 0);
    },
  });
  // Two views of the same limiter read: what is left, and the share in use.
  const perWindow = (name: string, help: string, value: (w: WindowStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["tenant", "endpoint", "window"],
      registers,
      async collect() {
        this.reset();
        for (const [{ label: tenant }, endpoint, status] of await limiterStatus())
          for (const w of status?.windows ?? [])
            this.set({ tenant, endpoint, window: windowLabel(w.windowMs) }, value(w));
      },
    });
  perWindow(
    "mde_rate_limit_budget_left",
    "Calls left in each rate-limit window, by tenant, endpoint and window (shared by all workers).",
    (w) => w.left,
  );
  perWindow(
    "mde_rate_limit_used_ratio",
    "Share of each rate-limit window in use (calls counted in it, answered or open, over its limit), by tenant, endpoint and window (shared by all workers).",
    (w) => w.used / w.limit,
  );
  new Gauge({
    name: "mde_rate_limit_paused_seconds",
    help: "Remaining pause after a 429, by tenant and endpoint (shared by all workers).",
    labelNames: ["tenant", "endpoint"],
    registers,
    async collect() {
      this.reset();
      for (const [{ label: tenant }, endpoint, status] of await limiterStatus())
        if (status) this.set({ tenant, endpoint }, status.pausedForMs / 1000);
    },
  });
}

/** The value, or undefined when the source failed or did not answer in time. */
async function settle<T>(promise: Promise<T>): Promise<T | undefined> {
  return withTimeout(promise, SCRAPE_TIMEOUT_MS, () => new OperationalError("scrape source timed out")).catch(
    () => undefined,
  );
}

/** `60000` → `1m`, as MDE_RATE_LIMITS writes windows. */
export function windowLabel(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
