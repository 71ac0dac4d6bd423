import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { type CancelResult, OUTCOMES } from "../shared/contract/cancel-result.js";
import { ENDPOINTS, type Endpoint } from "../shared/defender/endpoints.js";
import type { RateLimiterStatus } from "../shared/redis/rate-limiter-status.js";
import { DELAY_REASONS, type DelayReason } from "./job-state.js";
import { registerLiveMetrics } from "./metrics-live.js";

/** A tenant as the metrics see it: its `tenant` label and the limiter holding its budget. */
export interface MetricsTenant {
  tenantId: string;
  /** The name from MDE_TENANTS_FILE; the id without a file. */
  label: string;
  limiter: { status(tenantId: string, endpoint: Endpoint): Promise<RateLimiterStatus> };
}

/** What a scrape reads live; each source is asked on scrape, never polled in between. */
export interface MetricsSources {
  /** The tenants served now (a reload changes them). */
  tenants(): readonly MetricsTenant[];
  /** The `tenant` label of a job's tenant id: its name, the id without a file, `unknown` for any other. */
  label(tenantId: string | null | undefined): string;
  /** The cancel queue, on a connection that fails fast when Redis is away (a scrape must not hang). */
  queue: {
    getJobCounts(): Promise<Record<string, number>>;
    getWaiting(start: number, end: number): Promise<{ timestamp: number }[]>;
  };
  tokens: { readonly acquired: number };
  ping(): Promise<unknown>;
}

/**
 * The worker's Prometheus metrics, in a registry of its own so several workers can live in one
 * process (tests) without clashing in prom-client's global registry.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobs: Counter<"outcome" | "tenant">;
  private readonly failures: Counter<"code">;
  private readonly requests: Counter<"endpoint" | "status" | "tenant">;
  private readonly throttled: Counter<"endpoint" | "tenant">;
  private readonly waitSeconds: Counter;
  private readonly delays: Counter<"reason">;
  private readonly duration: Histogram;
  private readonly latency: Histogram;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    // Zero series for every tenant served at scrape time, so rate() and absent-based alerts work
    // before the first event, also for a tenant a reload added.
    const zeros = (fill: (tenant: string) => void) => () => {
      for (const t of sources.tenants()) fill(t.label);
    };
    collectDefaultMetrics({ register: this.registry });
    this.jobs = new Counter({
      name: "mde_cancel_jobs_total",
      help: "Cancel jobs finished, by outcome and tenant (one per published result).",
      labelNames: ["outcome", "tenant"],
      registers,
      collect: zeros((tenant) => {
        for (const outcome of OUTCOMES) this.jobs.inc({ outcome, tenant }, 0);
      }),
    });
    this.failures = new Counter({
      name: "mde_cancel_jobs_failed_total",
      help: "Cancel jobs finished with outcome failed, by error code.",
      labelNames: ["code"],
      registers,
    });
    this.requests = new Counter({
      name: "mde_api_requests_total",
      help: 'Defender API exchanges, by endpoint, HTTP status ("error" for network failures and timeouts) and tenant.',
      labelNames: ["endpoint", "status", "tenant"],
      registers,
    });
    this.throttled = new Counter({
      name: "mde_api_throttled_total",
      help: "Defender throttling answers (429, or 503 with Retry-After), by endpoint and tenant.",
      labelNames: ["endpoint", "tenant"],
      registers,
      collect: zeros((tenant) => {
        for (const endpoint of ENDPOINTS) this.throttled.inc({ endpoint, tenant }, 0);
      }),
    });
    this.waitSeconds = new Counter({
      name: "mde_rate_limit_wait_seconds_total",
      help: "Seconds jobs were put back to wait because the shared rate-limit budget was spent.",
      registers,
    });
    this.delays = new Counter({
      name: "mde_cancel_job_delays_total",
      help: "Times a job went back to Redis to wait, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.duration = new Histogram({
      name: "mde_cancel_job_duration_seconds",
      help: "Time the run that decided a job's outcome took (excludes time spent delayed).",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.latency = new Histogram({
      name: "mde_cancel_job_latency_seconds",
      help: "Time from enqueue to result, delays included.",
      buckets: [0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400],
      registers,
    });
    // Zero series from the start, so rate() and absent-based alerts work before the first event.
    for (const reason of DELAY_REASONS) this.delays.inc({ reason }, 0);
    this.waitSeconds.inc(0);
    registerLiveMetrics(registers, sources);
  }

  readonly onOutcome = (result: CancelResult, durationMs: number): void => {
    this.jobs.inc({ outcome: result.outcome, tenant: this.sources.label(result.tenantId) });
    if (result.error) this.failures.inc({ code: result.error.code });
    this.duration.observe(durationMs / 1000);
    const latencyMs = Date.parse(result.finishedAt) - Date.parse(result.enqueuedAt);
    if (Number.isFinite(latencyMs) && latencyMs >= 0) this.latency.observe(latencyMs / 1000);
  };

  readonly onResponse = (endpoint: Endpoint, status: number | "error", tenantId?: string): void => {
    this.requests.inc({ endpoint, status: String(status), tenant: this.sources.label(tenantId) });
  };

  readonly onThrottled = (endpoint: Endpoint, tenantId?: string): void => {
    this.throttled.inc({ endpoint, tenant: this.sources.label(tenantId) });
  };

  readonly onDelay = (reason: DelayReason, ms: number): void => {
    this.delays.inc({ reason });
    if (reason === "budget") this.waitSeconds.inc(ms / 1000);
  };

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
