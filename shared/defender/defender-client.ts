/**
 * The Defender room's HTTP client: the only code that builds Defender URLs and sends requests
 * (GET, list, cancel), and that turns every status into data or one typed error.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from "axios";
import pRetry, { AbortError } from "p-retry";
import type { MachineAction } from "../contract/cancel-result.js";
import { isGuid } from "../contract/guid.js";
import {
  BadRequestError,
  BudgetWaitError,
  ConnectionDroppedError,
  ForbiddenError,
  NotFoundError,
  ThrottledError,
  TransientError,
  UnauthorizedError,
  type UpstreamDetail,
  type UpstreamError,
  UrlTooLongError,
} from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import {
  type BatchLimits,
  checkIds,
  checkPath,
  DEFAULT_BATCH_LIMITS,
  firstBatchSize,
} from "./action-batches.js";
import type { Endpoint } from "./endpoints.js";
import { GatedAgent } from "./gated-agent.js";
import { throttleWaitMs } from "./retry-policy.js";

/** What the client needs from the token provider and the limiter; both are injected. */
export interface Tokens {
  get(tenantId: string): Promise<string>;
  refresh(tenantId: string, staleToken: string): Promise<string>;
}
export interface Budget {
  /** Admission of one call: settle it when its answer came, release it when it was never sent. */
  take(
    tenantId: string,
    endpoint: Endpoint,
    options?: { campaign?: boolean },
  ): Promise<{ ok: true; settle(): Promise<void>; release(): Promise<void> } | { ok: false; waitMs: number }>;
  pause(tenantId: string, endpoint: Endpoint, ms: number): Promise<void>;
  /** The remaining 429 pause, read again just before a request goes out on a new connection. */
  pausedForMs(tenantId: string, endpoint: Endpoint): Promise<number>;
}

export interface CallOptions {
  /** Campaign calls spend only CAMPAIGN_BUDGET_SHARE of each window. */
  campaign?: boolean;
  signal?: AbortSignal;
}

export interface DefenderClientOptions {
  baseUrl: string;
  timeoutMs: number;
  tokens: Tokens;
  budget: Budget;
  logger: Logger;
  /** Called once per HTTP exchange, for metrics. */
  onResponse?: (endpoint: Endpoint, status: number | "error") => void;
  /** Called when Defender throttles (429, or 503 with Retry-After), for metrics. */
  onThrottled?: (endpoint: Endpoint) => void;
  /** Batched checks: 40 ids and 2,048 characters of URL unless a test says otherwise. */
  checkLimits?: Partial<BatchLimits>;
}

export interface ActionPage {
  actions: MachineAction[];
  nextLink?: string;
}

/**
 * The only module that knows Defender's URLs and HTTP. Every request takes budget from the shared
 * limiter just before it leaves (token already in hand, so the call reaches Microsoft at once),
 * and every answer becomes either data or one of the typed errors of errors.ts.
 */
export class DefenderClient {
  private readonly http: AxiosInstance;
  /** The call each request belongs to, for the pause check of a new connection. */
  private readonly call = new AsyncLocalStorage<{ tenantId: string; endpoint: Endpoint }>();
  /** Ids per check; halved for good by a 414, since the next check would meet the same front door. */
  private readonly checkLimits: BatchLimits;

  constructor(private readonly options: DefenderClientOptions) {
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      // One keep-alive pool for every call: a cancel goes out on the socket its check used.
      // No socket limit (the worker's concurrency bounds the calls): a request queued for a free
      // socket would be written late, after a pause set meanwhile, on a kept-alive socket that skips
      // the gate. Each request gets an idle socket at once, or a new, gated connection.
      httpsAgent: new GatedAgent({ keepAlive: true }, () => this.gate(), options.timeoutMs),
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { Accept: "application/json" },
      transitional: { clarifyTimeoutError: true },
    });
    this.checkLimits = { ...DEFAULT_BATCH_LIMITS, ...options.checkLimits };
  }

  getAction(tenantId: string, id: string, options: CallOptions = {}): Promise<MachineAction> {
    return this.send<MachineAction>(
      tenantId,
      "get",
      "GET",
      `/api/machineactions/${guidSegment(id)}`,
      options,
    );
  }

  cancelAction(
    tenantId: string,
    id: string,
    comment: string,
    options: CallOptions = {},
  ): Promise<MachineAction> {
    return this.send<MachineAction>(
      tenantId,
      "cancel",
      "POST",
      `/api/machineactions/${guidSegment(id)}/cancel`,
      {
        ...options,
        body: { Comment: comment },
      },
    );
  }

  /** One page of `GET /api/machineactions`; pass the previous page's nextLink to continue. */
  async listActions(
    tenantId: string,
    query: { filter?: string; top?: number; nextLink?: string },
    options: CallOptions = {},
  ): Promise<ActionPage> {
    let path = "/api/machineactions";
    if (query.nextLink) {
      path = this.sameOriginPath(query.nextLink);
    } else {
      const params = new URLSearchParams();
      if (query.filter) params.set("$filter", query.filter);
      if (query.top) params.set("$top", String(query.top));
      if (params.size > 0) path += `?${params.toString()}`;
    }
    const page = await this.send<{ value?: MachineAction[]; "@odata.nextLink"?: string }>(
      tenantId,
      "list",
      "GET",
      path,
      options,
    );
    return { actions: page.value ?? [], nextLink: page["@odata.nextLink"] };
  }

  /**
   * The state of many actions through `$filter=id in (...)` on the list endpoint's budget, in
   * checks of at most 40 ids and 2,048 characters of URL. A 414 (or a 400 naming the URL) halves
   * the check and sends its ids again. Ids Defender does not know are absent from the map (keyed
   * by lower-case id). A budget wait, a 429 or an error ends the call: the caller decides.
   */
  async checkActions(
    tenantId: string,
    ids: readonly string[],
    options: CallOptions = {},
  ): Promise<Map<string, MachineAction>> {
    const remaining = checkIds(ids);
    const asked = new Set(remaining);
    const found = new Map<string, MachineAction>();
    while (remaining.length > 0) {
      const size = firstBatchSize(this.options.baseUrl, remaining, this.checkLimits);
      try {
        const page = await this.send<{ value?: MachineAction[] }>(
          tenantId,
          "list",
          "GET",
          checkPath(remaining.slice(0, size)),
          options,
        );
        for (const action of page.value ?? []) {
          const id = String(action.id).toLowerCase();
          if (asked.has(id)) found.set(id, action);
        }
        remaining.splice(0, size);
      } catch (err) {
        if (!(err instanceof UrlTooLongError) || size === 1) throw err;
        this.checkLimits.maxIds = Math.floor(size / 2);
        this.options.logger.warn(
          { endpoint: "list", ids: size, maxIds: this.checkLimits.maxIds },
          "state check refused as too long; halving its batch",
        );
      }
    }
    return found;
  }

  private async send<T>(
    tenantId: string,
    endpoint: Endpoint,
    method: "GET" | "POST",
    path: string,
    options: CallOptions & { body?: unknown },
  ): Promise<T> {
    let token = await this.options.tokens.get(tenantId);
    let refreshed = false;
    for (;;) {
      const response = await this.exchange(tenantId, endpoint, method, path, token, options);
      if (response.status === 401 && !refreshed) {
        // Tokens can be revoked or rotated early; one refresh tells a stale token from a bad app.
        refreshed = true;
        token = await this.options.tokens.refresh(tenantId, token);
        continue;
      }
      return this.interpret<T>(tenantId, endpoint, response);
    }
  }

  /**
   * One request. A GET whose kept-alive connection dropped under it goes again at once; a POST
   * does not, since it may have reached Defender (a second cancel would get a 400): the caller
   * gets a ConnectionDroppedError and looks at the state first.
   */
  private exchange(
    tenantId: string,
    endpoint: Endpoint,
    method: "GET" | "POST",
    path: string,
    token: string,
    options: CallOptions & { body?: unknown },
  ): Promise<AxiosResponse> {
    return pRetry(
      async () => {
        const admitted = await this.options.budget.take(tenantId, endpoint, { campaign: options.campaign });
        if (!admitted.ok)
          throw new AbortError(
            new BudgetWaitError(
              `rate-limit budget of ${endpoint} spent for ${admitted.waitMs} ms`,
              admitted.waitMs,
            ),
          );
        const started = Date.now();
        try {
          const response = await this.call.run({ tenantId, endpoint }, () =>
            this.http.request({
              method,
              url: path,
              data: options.body,
              headers: { Authorization: `Bearer ${token}` },
              signal: options.signal,
            }),
          );
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
        } catch (err) {
          // A 429 paused the endpoint while this call's connection was being opened: nothing was sent.
          const paused = isAxiosError(err) && err.cause instanceof BudgetWaitError ? err.cause : undefined;
          if (paused) {
            void admitted.release();
            throw new AbortError(paused);
          }
          // Otherwise the call may have reached Microsoft: it keeps its slot until its reservation ends.
          this.options.onResponse?.(endpoint, "error");
          if (options.signal?.aborted) throw new AbortError(err as Error);
          if (isDroppedConnection(err) && method === "GET") throw err;
          throw new AbortError(transportError(err, endpoint));
        }
      },
      { retries: 1, minTimeout: 50, maxTimeout: 50, onFailedAttempt: () => undefined },
    ).catch((err) => {
      if (isDroppedConnection(err)) throw transportError(err, endpoint);
      throw err;
    });
  }

  /** Before a request goes out on a new connection: its endpoint must not have been paused meanwhile. */
  private async gate(): Promise<void> {
    const call = this.call.getStore();
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

  /** nextLink is followed only on Defender's own host: the token must never travel elsewhere. */
  private sameOriginPath(link: string): string {
    const url = new URL(link, this.options.baseUrl);
    if (url.origin !== new URL(this.options.baseUrl).origin)
      throw new BadRequestError(`refusing to follow @odata.nextLink to another host (${url.origin})`);
    return url.pathname + url.search;
  }
}

/** The typed error an answer stands for, or undefined for a success. */
export function responseError(
  endpoint: Endpoint,
  status: number,
  retryAfter: string | undefined,
  data: unknown,
  nowMs: number,
): UpstreamError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const body = errorBody(data);
  const detail: UpstreamDetail = { httpStatus: status, code: body.code, target: body.target };
  const what = `Defender answered ${status}${body.code ? ` ${body.code}` : ""} to ${endpoint}`;
  if (status === 429 || (status === 503 && retryAfter !== undefined))
    return new ThrottledError(what, throttleWaitMs(retryAfter, nowMs), detail);
  if (status === 404) return new NotFoundError(what, detail);
  if (status === 414 || (status === 400 && namesUrl(body.message ?? data)))
    return new UrlTooLongError(`${what}: request URL too long`, detail);
  if (status === 401) return new UnauthorizedError(`${what} after a token refresh`, detail);
  if (status === 403) return new ForbiddenError(what, detail);
  if (status === 408 || status >= 500) return new TransientError(what, detail);
  return new BadRequestError(what, detail);
}

/** Ids reach the URL only as validated GUIDs: `../machines/x/offboard` never becomes a path. */
function guidSegment(id: string): string {
  if (!isGuid(id)) throw new BadRequestError(`machine action id ${JSON.stringify(id)} is not a GUID`);
  return id.toLowerCase();
}

/** A 400 from a front door (IIS, a gateway) whose text says the URL or request line was refused. */
function namesUrl(text: unknown): boolean {
  return (
    typeof text === "string" &&
    /request[- ]?ur[il]\b.*\b(too long|too large|invalid)|request line|url too long|RequestUriTooLong/i.test(
      text.slice(0, 2000),
    )
  );
}

function errorBody(data: unknown): { code?: string; message?: string; target?: string } {
  const error = (data as { error?: unknown } | undefined)?.error;
  if (!error || typeof error !== "object") return {};
  const e = error as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v.slice(0, 500) : undefined);
  return { code: text(e.code), message: text(e.message), target: text(e.target) };
}

function isDroppedConnection(err: unknown): boolean {
  return isAxiosError(err) && (err.code === "ECONNRESET" || err.code === "EPIPE") && !err.response;
}

function transportError(err: unknown, endpoint: Endpoint): TransientError {
  const code = isAxiosError(err) ? err.code : undefined;
  const message = `${endpoint} request failed: ${code ?? (err as Error)?.message ?? "network error"}`;
  return isDroppedConnection(err) ? new ConnectionDroppedError(message) : new TransientError(message);
}
