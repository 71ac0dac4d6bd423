import type { Endpoint } from "../shared/defender/endpoints.js";
import type { Rng } from "./rng.js";

/** How the simulator classifies a request: the three Defender APIs, the two Entra ones, or neither. */
export type RouteKind = Endpoint | "token" | "openid" | "other";
export type FaultEndpoint = Endpoint | "token" | "any";

/** What a fault's `match` sees of the request. */
export interface FaultRequest {
  method: string;
  path: string;
  query: string;
  endpoint: RouteKind;
  body: string;
  /** The tenant's id: from the path for Entra calls, from the bearer token for Defender calls. */
  tenant?: string;
}

/**
 * A scripted misbehaviour. With `status` the simulator answers that instead of the real thing (`body`: a
 * string is sent verbatim, anything else as JSON, absent gives the endpoint's usual error shape; a 429
 * without `headers` carries Retry-After: 1). `delayMs` alone delays the real answer; `reset` destroys the
 * socket unanswered; `dropAnswer` lets the request take effect, then destroys the socket instead of
 * answering (a cancel that reached Defender whose answer was lost).
 */
export interface Fault {
  endpoint: FaultEndpoint;
  /** Only requests of this tenant (its id, any case); every tenant's when absent. */
  tenant?: string;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many requests it applies to (default 1). */
  times?: number;
  delayMs?: number;
  reset?: true;
  dropAnswer?: true;
  match?: (req: FaultRequest) => boolean;
}

/** Background noise: each Defender request independently fails with these probabilities. */
export interface RandomFaults {
  p429?: number;
  p500?: number;
  p503?: number;
}

export type AppliedFault = Omit<Fault, "times" | "match"> & { source: "injected" | "random" };

export class FaultPlan {
  private readonly queue: (Fault & { remaining: number })[] = [];

  constructor(
    private readonly random: RandomFaults = {},
    private readonly rng: Rng = Math.random,
  ) {}

  inject(fault: Fault): void {
    const remaining = fault.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1)
      throw new RangeError("fault.times must be a positive integer");
    this.queue.push({ ...fault, remaining });
  }

  /** The first queued fault that applies (consumed in order), else maybe a random one, else undefined. */
  take(req: FaultRequest): AppliedFault | undefined {
    const index = this.queue.findIndex(
      (f) =>
        (f.endpoint === "any" || f.endpoint === req.endpoint) &&
        (f.tenant === undefined || f.tenant.toLowerCase() === req.tenant?.toLowerCase()) &&
        (f.match?.(req) ?? true),
    );
    const fault = this.queue[index];
    if (fault) {
      fault.remaining -= 1;
      if (fault.remaining === 0) this.queue.splice(index, 1);
      const { times: _times, match: _match, remaining: _remaining, ...applied } = fault;
      return { ...applied, source: "injected" };
    }
    return this.randomFault(req.endpoint);
  }

  get pending(): number {
    return this.queue.reduce((sum, f) => sum + f.remaining, 0);
  }

  clear(): void {
    this.queue.length = 0;
  }

  // Only Defender calls: msal throttles itself for a minute after a 5xx from the token endpoint.
  private randomFault(endpoint: RouteKind): AppliedFault | undefined {
    if (endpoint !== "get" && endpoint !== "cancel" && endpoint !== "list") return undefined;
    const { p429 = 0, p500 = 0, p503 = 0 } = this.random;
    if (p429 + p500 + p503 <= 0) return undefined;
    const roll = this.rng();
    if (roll < p429) return { endpoint, status: 429, headers: { "Retry-After": "1" }, source: "random" };
    if (roll < p429 + p500) return { endpoint, status: 500, source: "random" };
    if (roll < p429 + p500 + p503) return { endpoint, status: 503, source: "random" };
    return undefined;
  }
}

const FAULT_ENDPOINTS: readonly FaultEndpoint[] = ["get", "cancel", "list", "token", "any"];

/** Validates a fault that arrived as JSON on POST /_sim/faults (no `match`: functions do not travel). */
export function faultFromJson(input: unknown): Fault {
  if (typeof input !== "object" || input === null) throw new TypeError("the fault must be a JSON object");
  const f = input as Record<string, unknown>;
  if (!FAULT_ENDPOINTS.includes(f.endpoint as FaultEndpoint)) {
    throw new TypeError(`endpoint must be one of ${FAULT_ENDPOINTS.join(", ")}`);
  }
  const optionalNumber = (key: string) => {
    if (f[key] !== undefined && typeof f[key] !== "number") throw new TypeError(`${key} must be a number`);
    return f[key] as number | undefined;
  };
  const headers = f.headers;
  if (headers !== undefined && (typeof headers !== "object" || headers === null)) {
    throw new TypeError("headers must be an object");
  }
  if (f.tenant !== undefined && typeof f.tenant !== "string") throw new TypeError("tenant must be a string");
  return {
    endpoint: f.endpoint as FaultEndpoint,
    ...(f.tenant === undefined ? {} : { tenant: f.tenant as string }),
    status: optionalNumber("status"),
    times: optionalNumber("times"),
    delayMs: optionalNumber("delayMs"),
    headers: headers as Record<string, string> | undefined,
    body: f.body,
    ...(f.reset === true ? { reset: true } : {}),
    ...(f.dropAnswer === true ? { dropAnswer: true } : {}),
  };
}
