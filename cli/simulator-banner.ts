import { ACTION_STATUSES } from "../sim/machine-action.js";
import type { Simulator } from "../sim/server.js";
import type { ParsedSimulatorOptions } from "./simulator-options.js";
import { formatTenantsFile, type SimulatorTenantsFile } from "./simulator-tenants.js";

/** What `mde-cancel simulator` prints once it listens: where it is, what it holds, how to point a worker at it. */
export function simulatorBanner(
  sim: Simulator,
  parsed: ParsedSimulatorOptions,
  shown: { certPath: string; env: Record<string, string>; tenants?: SimulatorTenantsFile },
): string {
  const { certPath, env, tenants } = shown;
  const actions = sim.store.list();
  const byStatus = ACTION_STATUSES.map((s) => `${actions.filter((a) => a.status === s).length} ${s}`);
  const pending = actions.find((a) => a.status === "Pending");
  const { sim: o } = parsed;
  const limits = o.rateLimits?.length === 0 ? "no rate limits" : `rate limits ${parsed.rateLimitsText}`;
  const drift = parsed.driftMs > 0 ? `live actions drift every ${parsed.driftMs} ms` : "no drift";
  const each = sim.tenants.length > 1 ? ` in ${sim.tenants[0]?.name}` : "";
  return [
    `Defender API and Entra ID simulator listening on ${sim.url}`,
    ...(sim.secondAuthorityHost ? [`  second authority (another cloud) on ${sim.secondAuthorityHost}`] : []),
    `  ${actions.length} actions${each} (seed ${o.seed}): ${byStatus.join(", ")}`,
    `  ${limits}; cancelling a finished action answers ${o.terminalCancel}; ${drift}`,
    ...(pending ? [`  a Pending action to cancel: ${pending.id}`] : []),
    "",
    `Trust its certificate through NODE_EXTRA_CA_CERTS: ${certPath}`,
    ...(tenants ? ["", ...tenantLines(tenants, env.MDE_TENANTS_FILE)] : []),
    "",
    "Point a worker (or your own client) at it:",
    ...Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}`),
    "",
    `Admin API under ${sim.url}/_sim/ (requests, actions, faults, tenants): see docs/simulator.md.`,
    "Stop it with Ctrl-C (SIGINT) or SIGTERM.",
    "",
  ].join("\n");
}

function tenantLines(tenants: SimulatorTenantsFile, writtenTo: string | undefined): string[] {
  const where = writtenTo
    ? `written to ${writtenTo}`
    : "save it as tenants.json and export MDE_TENANTS_FILE=tenants.json, or pass --tenants-file";
  return [
    `${tenants.tenants.length} tenants; their tenants file (${where}):`,
    formatTenantsFile(tenants).trimEnd(),
  ];
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
