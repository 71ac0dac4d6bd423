/**
 * The HTTP side of the Defender client: one keep-alive connection pool, a bearer token per request
 * (refreshed once on a 401), budget taken from the shared limiter just before each request leaves,
 * and every answer turned into data or one typed error. DefenderClient builds the URLs.
 */

import type { IncomingMessage } from "node:http";
import https from "node:https";
import axios, { type AxiosInstance, type AxiosResponse } from "axios";
import { BudgetWaitError, ThrottledError, TransientError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { sleep } from "../core/sleep.js";
import type { Endpoint } from "./endpoints.js";
import { afterFailedAttempt } from "./failed-attempt.js";
import { GatedAgent } from "./gated-agent.js";
import { errorBody, responseError } from "./response-error.js";

/** What the client needs from the token provider and the limiter; both are injected. */
export interface Tokens {
  get(tenantId: string): Promise<string>;
  refresh(tenantId: string, staleToken: string): Promise<string>;
}
/** Admission of one call: settle it when its answer came, release it when it was never sent. */
export interface Admitted {
  ok: true;
  settle(): Promise<void>;
  release(): Promise<void>;
}
export interface Budget {
  take(
    tenantId: string,
    endpoint: Endpoint,
    options?: { campaign?: boolean },
  ): Promise<Admitted | { ok: false; waitMs: number }>;
  pause(tenantId: string, endpoint: Endpoint, ms: number): Promise<void>;
  /** The remaining 429 pause, read again just before a request goes out on a new connection. */
  pausedForMs(tenantId: string, endpoint: Endpoint): Promise<number>;
}

export interface CallOptions {
  /** Campaign calls spend only CAMPAIGN_BUDGET_SHARE of each window. */
  campaign?: boolean;
  signal?: AbortSignal;
  /**
   * Budget already taken for this call (a cancel's claim takes it in the same script): its first
   * request spends it instead of asking the limiter again. Whoever took it releases it if unused.
   */
  admission?: Admitted;
}

/** Which call a request belongs to: handed to the agent with the request's options, for the gate. */
interface CallTag {
  tenantId: string;
  endpoint: Endpoint;
}
type TaggedOptions = https.RequestOptions & { mdeCall?: CallTag };

export interface ExchangeOptions {
  baseUrl: string;
  timeoutMs: number;
  tokens: Tokens;
  budget: Budget;
  logger: Logger;
  /** Called once per HTTP exchange, for metrics. */
  onResponse?: (endpoint: Endpoint, status: number | "error") => void;
  /** Called when Defender throttles (429, or 503 with Retry-After), for metrics. */
  onThrottled?: (endpoint: Endpoint) => void;
}

export class DefenderExchange {
  private readonly http: AxiosInstance;

  constructor(private readonly options: ExchangeOptions) {
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      // One keep-alive pool for every call: a cancel goes out on the socket its check used.
      // No socket limit (the worker's concurrency bounds the calls): a request queued for a free
      // socket would be written late, after a pause set meanwhile, on a kept-alive socket that skips
      // the gate. Each request gets an idle socket at once, or a new, gated connection.
      httpsAgent: new GatedAgent(
        { keepAlive: true },
        (request: TaggedOptions) => this.gate(request.mdeCall),
        options.timeoutMs,
      ),
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { Accept: "application/json" },
      transitional: { clarifyTimeoutError: true },
    });
  }

  /** One call: its answer's data, or the typed error the answer (or its absence) stands for. */
  async send<T>(
    tenantId: string,
    endpoint: Endpoint,
    method: "GET" | "POST",
    path: string,
    options: CallOptions & { body?: unknown },
  ): Promise<T> {
    let token = await this.options.tokens.get(tenantId);
    let refreshed = false;
    // Budget taken ahead serves the first request only; a request after a 401 takes its own.
    let ahead = options.admission;
    for (;;) {
      const response = await this.exchange(tenantId, endpoint, method, path, token, options, ahead);
      ahead = undefined;
      if (response.status === 401 && !refreshed) {
        // Tokens can be revoked or rotated early; one refresh tells a stale token from a bad app.
        refreshed = true;
        token = await this.options.tokens.refresh(tenantId, token);
        continue;
      }
      return this.interpret<T>(tenantId, endpoint, response);
    }
  }

  /** One request, admitted by the budget; sent again only when afterFailedAttempt says so. */
  private async exchange(
    tenantId: string,
    endpoint: Endpoint,
    method: "GET" | "POST",
    path: string,
    token: string,
    options: CallOptions & { body?: unknown },
    ahead: Admitted | undefined,
  ): Promise<AxiosResponse> {
    const tag: CallTag = { tenantId, endpoint };
    // The agent gets the call's tag with the request's options (no async context needed to find it).
    const transport = {
      request: (request: TaggedOptions, onResponse: (response: IncomingMessage) => void) =>
        https.request(Object.assign(request, { mdeCall: tag }), onResponse),
    };
    for (let attempt = 1; ; attempt++) {
      const admitted =
        (attempt === 1 && ahead) ||
        (await this.options.budget.take(tenantId, endpoint, { campaign: options.campaign }));
      if (!admitted.ok)
        throw new BudgetWaitError(
          `rate-limit budget of ${endpoint} spent for ${admitted.waitMs} ms`,
          admitted.waitMs,
        );
      const started = Date.now();
      let response: AxiosResponse;
      try {
        response = await this.http.request({
          method,
          url: path,
          data: options.body,
          headers: { Authorization: `Bearer ${token}` },
          signal: options.signal,
          transport,
        });
      } catch (err) {
        const aborted = options.signal?.aborted === true;
        const verdict = afterFailedAttempt(err, { endpoint, method, attempt, aborted });
        if (verdict.kind === "fail" && !verdict.sent) {
          void admitted.release();
          throw verdict.error;
        }
        this.options.onResponse?.(endpoint, "error");
        if (verdict.kind === "fail") throw verdict.error;
        await sleep(verdict.afterMs);
        continue;
      }
      // Microsoft counted the call by now: its budget slot ends one window from here.
      void admitted.settle();
      this.options.onResponse?.(endpoint, response.status);
      this.options.logger.debug(
        {
          endpoint,
          method,
          path: path.replace(/\?.*/, ""),
          status: response.status,
          ms: Date.now() - started,
          target: errorBody(response.data).target,
        },
        "defender exchange",
      );
      return response;
    }
  }

  /** Before a request goes out on a new connection: its endpoint must not have been paused meanwhile. */
  private async gate(call: CallTag | undefined): Promise<void> {
    if (!call) throw new TransientError("a connection to Defender was opened outside a call");
    const waitMs = await this.options.budget.pausedForMs(call.tenantId, call.endpoint);
    if (waitMs > 0)
      throw new BudgetWaitError(`${call.endpoint} paused by a 429 for ${waitMs} ms; not sent`, waitMs);
  }

  private async interpret<T>(tenantId: string, endpoint: Endpoint, response: AxiosResponse): Promise<T> {
    const retryAfter = response.headers["retry-after"] as string | undefined;
    const error = responseError(endpoint, response.status, retryAfter, response.data, Date.now());
    if (!error) return response.data as T;
    // Every worker's calls to this endpoint wait, not just this job's.
    if (error instanceof ThrottledError) {
      this.options.onThrottled?.(endpoint);
      await this.options.budget.pause(tenantId, endpoint, error.waitMs);
    }
    throw error;
  }
}
