import type { RateWindow } from "../shared/config/durations.js";
import type { TerminalCancelMode } from "./defender-api.js";
import type { RandomFaults } from "./faults.js";

/** One more tenant beside the first (`SimulatorOptions.tenantId`); unset fields take the first's. */
export interface SimTenantOptions {
  tenantId: string;
  /** Matched by admin routes' `?tenant=` and printed in tenants files (default: the id). */
  name?: string;
  /** The app registered in this tenant; another id than the client's gives AADSTS700016. */
  clientId?: string;
  /** The secret Entra expects here; another one than the client's gives AADSTS7000215. */
  clientSecret?: string;
  clientCertPem?: string | Buffer;
  /** Application permissions in its tokens (default: Machine.Read.All and the seven cancel ones); [] for none. */
  roles?: readonly string[];
  actions?: number;
  rateLimits?: readonly RateWindow[];
  faults?: RandomFaults;
  /**
   * Lives on the second authority host (a sovereign cloud): its tokens and API calls are served
   * there only, and the first host answers AADSTS90002 for it. Needs `secondAuthority`.
   */
  secondAuthority?: boolean;
}

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  tls: { key: string | Buffer; cert: string | Buffer };
  /** The first tenant, and its app registration, which every other tenant defaults to. */
  tenantId: string;
  /** The first tenant's name, for admin routes and tenants files (default: its id). */
  tenantName?: string;
  clientId: string;
  clientSecret?: string;
  clientCertPem?: string | Buffer;
  /** More tenants, each with its own actions, budget and faults. */
  tenants?: readonly SimTenantOptions[];
  /** Also listen on a second port, standing in for a sovereign cloud's authority and API hosts. */
  secondAuthority?: boolean;
  /** Lifetime of issued tokens (default 3599). msal never caches a token with 300 s or less to live. */
  tokenTtlSec?: number;
  /** Per (tenant, endpoint) sliding windows; default 100/1m and 1500/1h; [] disables throttling. */
  rateLimits?: readonly RateWindow[];
  /** Answer to cancelling a finished action (default "400"). */
  terminalCancel?: TerminalCancelMode;
  /** How long an action added at run time answers 404 before it is readable (default 0). */
  notFoundLagMs?: number;
  /** List page size when the client sends no $top (default and max 10000). */
  pageSize?: number;
  /**
   * A Defender request line (`GET /path?query HTTP/1.1`) longer than this is answered 414, as a
   * front door before the real API may; it spends no budget (default 2048). Entra calls are exempt.
   */
  maxRequestLineLength?: number;
  /** Added before every answer except admin routes. */
  latencyMs?: number;
  faults?: RandomFaults;
  /** Seeds the generated actions, random faults and drift (default 1). */
  seed?: number;
  /** How many actions to generate at start in each tenant (default 0). */
  actions?: number;
  /** Moves Pending and InProgress actions on over time. */
  drift?: { intervalMs: number; stepProbability?: number };
  log?: (line: string) => void;
}
