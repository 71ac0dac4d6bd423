import { describe, expect, it } from "vitest";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import type { RateLimiterStatus } from "../../shared/redis/rate-limiter-status.js";
import { type MetricsSources, type MetricsTenant, WorkerMetrics } from "../../worker/metrics.js";
import { windowLabel } from "../../worker/metrics-live.js";
import { sample } from "../support/prom-sample.js";

const TENANT = "11111111-2222-3333-4444-555555555555";

function sources(overrides: Partial<MetricsSources> = {}): MetricsSources {
  const status: RateLimiterStatus = {
    pausedForMs: 1_500,
    windows: [
      { limit: 100, windowMs: 60_000, used: 7, left: 93 },
      { limit: 1500, windowMs: 3_600_000, used: 7, left: 1493 },
    ],
  };
  return {
    ...oneTenant({ status: async () => status }),
    queue: {
      getJobCounts: async () => ({ waiting: 3, delayed: 2, active: 1 }),
      getWaiting: async () => [{ timestamp: Date.now() - 90_000 }],
    },
    tokens: { acquired: 4 },
    ping: async () => "PONG",
    ...overrides,
  };
}

/** The tenant of a deployment without a tenants file: its label is its id. */
function oneTenant(limiter: MetricsTenant["limiter"]): Pick<MetricsSources, "tenants" | "label"> {
  return {
    tenants: () => [{ tenantId: TENANT, label: TENANT, limiter }],
    label: (tenantId) => (tenantId === TENANT ? TENANT : "unknown"),
  };
}

const result = (outcome: CancelResult["outcome"], code?: string): CancelResult =>
  ({
    outcome,
    error: code ? { code, message: "x" } : null,
    enqueuedAt: "2030-01-01T00:00:00.000Z",
    finishedAt: "2030-01-01T00:00:02.000Z",
  }) as CancelResult;

describe("WorkerMetrics", () => {
  it("counts what the hooks report", async () => {
    const m = new WorkerMetrics(sources());
    m.onOutcome(result("cancelled"), 300);
    m.onOutcome(result("failed", "unauthorized"), 50);
    m.onResponse("get", 200);
    m.onResponse("get", 200);
    m.onResponse("cancel", "error");
    m.onThrottled("cancel");
    m.onDelay("budget", 1_500);
    m.onDelay("throttled", 60_000);
    const text = await m.text();
    expect(sample(text, 'mde_cancel_jobs_total{outcome="cancelled"}')).toBe(1);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="not_found"}')).toBe(0);
    expect(sample(text, 'mde_cancel_jobs_failed_total{code="unauthorized"}')).toBe(1);
    expect(sample(text, 'mde_api_requests_total{endpoint="get",status="200"}')).toBe(2);
    expect(sample(text, 'mde_api_requests_total{endpoint="cancel",status="error"}')).toBe(1);
    expect(sample(text, 'mde_api_throttled_total{endpoint="cancel"}')).toBe(1);
    expect(sample(text, 'mde_api_throttled_total{endpoint="get"}')).toBe(0);
    // Only budget waits are rate-limit waits; a 429's wait shows as a throttled delay.
    expect(sample(text, "mde_rate_limit_wait_seconds_total")).toBe(1.5);
    expect(sample(text, 'mde_cancel_job_delays_total{reason="throttled"}')).toBe(1);
    expect(sample(text, 'mde_cancel_job_duration_seconds_bucket{le="0.25"}')).toBe(1);
    expect(sample(text, "mde_cancel_job_duration_seconds_sum")).toBeCloseTo(0.35);
    expect(sample(text, "mde_cancel_job_latency_seconds_sum")).toBe(4);
  });

  it("reads queue depth, tokens, Redis and the budget on scrape", async () => {
    const text = await new WorkerMetrics(sources()).text();
    expect(sample(text, 'mde_cancel_queue_jobs{state="waiting"}')).toBe(3);
    expect(sample(text, 'mde_cancel_queue_jobs{state="delayed"}')).toBe(2);
    expect(sample(text, "mde_cancel_queue_oldest_waiting_seconds")).toBeGreaterThanOrEqual(90);
    expect(sample(text, "mde_tokens_acquired_total")).toBe(4);
    expect(sample(text, "mde_redis_up")).toBe(1);
    for (const endpoint of ["get", "cancel", "list"]) {
      expect(
        sample(text, `mde_rate_limit_budget_left{tenant="${TENANT}",endpoint="${endpoint}",window="1m"}`),
      ).toBe(93);
      expect(
        sample(text, `mde_rate_limit_budget_left{tenant="${TENANT}",endpoint="${endpoint}",window="1h"}`),
      ).toBe(1493);
      expect(sample(text, `mde_rate_limit_paused_seconds{tenant="${TENANT}",endpoint="${endpoint}"}`)).toBe(
        1.5,
      );
    }
  });

  it("still answers when Redis fails or hangs: the live series go missing, the counters stay", async () => {
    const failing = sources({
      queue: {
        getJobCounts: () => Promise.reject(new Error("down")),
        getWaiting: () => new Promise(() => {}),
      },
      ...oneTenant({ status: () => Promise.reject(new Error("down")) }),
      ping: () => Promise.reject(new Error("down")),
    });
    const m = new WorkerMetrics(failing);
    m.onOutcome(result("cancelled"), 10);
    const text = await m.text();
    expect(sample(text, "mde_redis_up")).toBe(0);
    expect(text).not.toMatch(/^mde_cancel_queue_jobs\{/m);
    expect(text).not.toMatch(/^mde_rate_limit_budget_left\{/m);
    expect(sample(text, "mde_cancel_queue_oldest_waiting_seconds")).toBeNaN();
    expect(sample(text, 'mde_cancel_jobs_total{outcome="cancelled"}')).toBe(1);
  }, 10_000);

  it("keeps each worker's metrics in its own registry", async () => {
    const a = new WorkerMetrics(sources());
    const b = new WorkerMetrics(sources());
    a.onOutcome(result("cancelled"), 1);
    expect(sample(await a.text(), 'mde_cancel_jobs_total{outcome="cancelled"}')).toBe(1);
    expect(sample(await b.text(), 'mde_cancel_jobs_total{outcome="cancelled"}')).toBe(0);
  });

  it("names windows the way MDE_RATE_LIMITS writes them", () => {
    expect(windowLabel(60_000)).toBe("1m");
    expect(windowLabel(3_600_000)).toBe("1h");
    expect(windowLabel(90_000)).toBe("90s");
    expect(windowLabel(1_500)).toBe("1500ms");
  });
});
