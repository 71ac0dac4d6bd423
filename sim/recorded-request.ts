import type { RouteKind } from "./faults.js";

/** One request as the simulator saw it. The Authorization header is deliberately never kept. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string including its `?`, or "" (list paging is asserted through it). */
  query: string;
  endpoint: RouteKind;
  /** 0 while in flight, or when a `reset` fault dropped the connection. */
  status: number;
  /** From the URL for Entra calls, from the bearer token for Defender calls. */
  tenant?: string;
  /** Arrival time, epoch ms. */
  at: number;
  /** Set when the second authority host (the other cloud) took the request. */
  authority?: "second";
  /** Set when an injected or random fault produced the answer. */
  fault?: "injected" | "random";
}
