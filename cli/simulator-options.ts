import { resolve } from "node:path";
import type { RateWindow } from "../shared/config/durations.js";
import { parseRateLimits } from "../shared/config/durations.js";
import { isGuid } from "../shared/contract/guid.js";
import { UsageError } from "../shared/core/errors.js";
import { isCertHost } from "../sim/certs.js";
import { randomGuid, seededRng } from "../sim/rng.js";
import type { RandomFaults, SimTenantOptions, SimulatorOptions, TerminalCancelMode } from "../sim/server.js";

/** The fake app registration the simulator accepts unless told otherwise; not a real credential. */
export const SIMULATOR_DEFAULTS = {
  port: "8443",
  host: "127.0.0.1",
  actions: "200",
  seed: "1",
  rateLimits: "100/1m,1500/1h",
  terminalCancel: "400",
  notFoundLagMs: "0",
  driftMs: "30000",
  latencyMs: "0",
  tenant: "11111111-2222-3333-4444-555555555555",
  clientId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  clientSecret: "simulator-secret",
  certDir: ".cache/simulator-certs",
  tenants: "1",
} as const;

/** The most tenants `--tenants` seeds: enough for an MSSP's bench, few enough to start in seconds. */
const MAX_TENANTS = 1000;

/** Commander's raw option values (strings once defaults apply). */
export interface RawSimulatorOptions {
  port: string;
  host: string;
  actions: string;
  seed: string;
  rateLimits: string;
  faults?: string;
  terminalCancel: string;
  notFoundLagMs: string;
  driftMs: string;
  latencyMs: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  clientCert?: string;
  certDir: string;
  certHost: string[];
  tenants: string;
  secondAuthority?: boolean;
  tenantsFile?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface ParsedSimulatorOptions {
  sim: Omit<SimulatorOptions, "tls" | "log">;
  /** The public certificate of the app registration, for private_key_jwt client assertions. */
  clientCertPath?: string;
  certDir: string;
  certHosts: string[];
  /** The rate limits as given, to echo back. */
  rateLimitsText: string;
  driftMs: number;
  /** Where to write the tenants file (absolute), when asked. */
  tenantsFilePath?: string;
}

const TERMINAL_MODES: readonly TerminalCancelMode[] = ["400", "403", "200"];

/** Validates every option at once; the first bad one becomes a UsageError (exit 2) naming it. */
export function parseSimulatorOptions(raw: RawSimulatorOptions, cwd: string): ParsedSimulatorOptions {
  const port = wholeNumber("--port", raw.port, 0, 65_535);
  const seed = wholeNumber("--seed", raw.seed, 0, 2 ** 31 - 1);
  const actions = wholeNumber("--actions", raw.actions, 0, 1_000_000);
  const notFoundLagMs = wholeNumber("--not-found-lag-ms", raw.notFoundLagMs, 0, 86_400_000);
  const driftMs = wholeNumber("--drift-ms", raw.driftMs, 0, 86_400_000);
  const latencyMs = wholeNumber("--latency-ms", raw.latencyMs, 0, 600_000);
  const tenantCount = wholeNumber("--tenants", raw.tenants, 1, MAX_TENANTS);
  if (raw.secondAuthority && tenantCount < 2)
    throw new UsageError(
      "--second-authority puts the last tenant on a second host; it needs --tenants 2 or more (tenant-1 stays on the first).",
    );
  if (raw.host.trim() === "") throw new UsageError("--host must name an address to listen on, e.g. 0.0.0.0.");
  if (!TERMINAL_MODES.includes(raw.terminalCancel as TerminalCancelMode))
    throw new UsageError(`--terminal-cancel ${JSON.stringify(raw.terminalCancel)} must be 400, 403 or 200.`);
  for (const [name, value] of [
    ["--tenant", raw.tenant],
    ["--client-id", raw.clientId],
  ] as const) {
    if (!isGuid(value)) throw new UsageError(`${name} ${JSON.stringify(value)} must be a GUID.`);
  }
  if (raw.clientSecret === "") throw new UsageError("--client-secret must not be empty.");
  const certHosts = raw.certHost.flatMap((list) => list.split(",").map((h) => h.trim()));
  const badHost = certHosts.find((h) => !isCertHost(h));
  if (badHost !== undefined)
    throw new UsageError(`--cert-host ${JSON.stringify(badHost)} must be a DNS name or an IP address.`);
  return {
    sim: {
      port,
      host: raw.host,
      seed,
      actions,
      notFoundLagMs,
      latencyMs,
      rateLimits: rateLimits(raw.rateLimits),
      faults: raw.faults === undefined ? undefined : faults(raw.faults),
      terminalCancel: raw.terminalCancel as TerminalCancelMode,
      drift: driftMs > 0 ? { intervalMs: driftMs } : undefined,
      tenantId: raw.tenant.toLowerCase(),
      clientId: raw.clientId.toLowerCase(),
      clientSecret: raw.clientSecret,
      ...(tenantCount > 1 || raw.tenantsFile !== undefined ? { tenantName: "tenant-1" } : {}),
      ...(tenantCount > 1 ? { tenants: seededTenants(seed, tenantCount, raw.secondAuthority === true) } : {}),
      ...(raw.secondAuthority ? { secondAuthority: true } : {}),
    },
    tenantsFilePath: raw.tenantsFile === undefined ? undefined : resolve(cwd, raw.tenantsFile),
    clientCertPath: raw.clientCert === undefined ? undefined : resolve(cwd, raw.clientCert),
    certDir: resolve(cwd, raw.certDir),
    certHosts,
    rateLimitsText: raw.rateLimits,
    driftMs,
  };
}

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max)
    throw new UsageError(`${name} ${JSON.stringify(text)} must be a whole number from ${min} to ${max}.`);
  return value;
}

// "none" is the only way to say "never throttle" on a command line; [] tells the simulator exactly that.
function rateLimits(text: string): RateWindow[] {
  if (text.trim().toLowerCase() === "none") return [];
  const windows = parseRateLimits(text);
  if (!windows)
    throw new UsageError(
      `--rate-limits ${JSON.stringify(text)} must be comma-separated N/<int><ms|s|m|h> (e.g. 100/1m,1500/1h) or none.`,
    );
  return windows;
}

const FAULT_KEYS = ["p429", "p500", "p503"] as const;

function faults(text: string): RandomFaults {
  const result: RandomFaults = {};
  const usage = () =>
    new UsageError(
      `--faults ${JSON.stringify(text)} must be comma-separated p429=, p500=, p503= probabilities from 0 to 1 (e.g. p429=0.05,p500=0.02), adding up to at most 1.`,
    );
  for (const part of text.split(",")) {
    const match = /^\s*(\w+)\s*=\s*(\d+(?:\.\d+)?|\.\d+)\s*$/.exec(part);
    const key = FAULT_KEYS.find((k) => k === match?.[1]);
    const p = Number(match?.[2]);
    if (!key || !(p >= 0 && p <= 1)) throw usage();
    result[key] = p;
  }
  if ((result.p429 ?? 0) + (result.p500 ?? 0) + (result.p503 ?? 0) > 1) throw usage();
  return result;
}

/**
 * tenant-2 .. tenant-n beside the first (`--tenant`), with GUIDs drawn from the seed: the same
 * tenants on every run, so a saved tenants file keeps working. With a second authority, the last
 * one lives there.
 */
export function seededTenants(seed: number, count: number, secondAuthority: boolean): SimTenantOptions[] {
  const rng = seededRng(seed + 7_919);
  return Array.from({ length: count - 1 }, (_, i) => ({
    tenantId: randomGuid(rng),
    name: `tenant-${i + 2}`,
    ...(secondAuthority && i === count - 2 ? { secondAuthority: true } : {}),
  }));
}
