import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { errorMessage, OperationalError, UsageError } from "../shared/core/errors.js";
import type { ActionStore } from "../sim/action-store.js";
import { ensureServerCert } from "../sim/certs.js";
import { ACTION_STATUSES, ACTION_TYPES } from "../sim/machine-action.js";
import { type Simulator, startSimulator } from "../sim/server.js";
import { shutdownSignal } from "./shutdown-signal.js";
import { simulatorBanner } from "./simulator-banner.js";
import {
  SIMULATOR_DEFAULTS as D,
  type ParsedSimulatorOptions,
  parseSimulatorOptions,
  type RawSimulatorOptions,
} from "./simulator-options.js";
import { simulatorTenantsFile, writeTenantsFile } from "./simulator-tenants.js";

/** `mde-cancel simulator`: the test simulator as a standalone HTTPS server for playbook authors and Docker. */
export function simulatorCommand(_env: NodeJS.ProcessEnv): Command {
  return new Command("simulator")
    .description("Run a local HTTPS simulator of the Defender API and Entra ID until SIGINT or SIGTERM.")
    .option("--port <n>", "port to listen on; 0 picks a free one", D.port)
    .option("--host <address>", "address to listen on (0.0.0.0 for every interface)", D.host)
    .option("--actions <n>", "machine actions to generate, every status and type among them", D.actions)
    .option("--seed <n>", "seed of the generated actions, random faults and drift", D.seed)
    .option(
      "--rate-limits <windows>",
      "budget per tenant and endpoint, N/<int><ms|s|m|h>, or none",
      D.rateLimits,
    )
    .option("--faults <p>", "random Defender faults, e.g. p429=0.05,p500=0.02,p503=0.01")
    .option(
      "--terminal-cancel <status>",
      "answer to cancelling a finished action: 400, 403 or 200",
      D.terminalCancel,
    )
    .option(
      "--not-found-lag-ms <n>",
      "how long an action added through /_sim/actions answers 404",
      D.notFoundLagMs,
    )
    .option(
      "--drift-ms <n>",
      "every n ms some live actions move on (Pending → InProgress → Succeeded); 0 never",
      D.driftMs,
    )
    .option("--latency-ms <n>", "delay added to every Entra and Defender answer", D.latencyMs)
    .option("--tenant <guid>", "the tenant it accepts", D.tenant)
    .option("--client-id <guid>", "the app registration it accepts", D.clientId)
    .option("--client-secret <s>", "the client secret it accepts (a fake one by default)", D.clientSecret)
    .option("--client-cert <pem>", "also accept client assertions signed for this certificate")
    .option(
      "--tenants <n>",
      "tenants to serve (tenant-1 is --tenant, the others seeded), each with its own actions, budget and faults",
      D.tenants,
    )
    .option("--second-authority", "serve the last tenant from a second port, like a sovereign cloud")
    .option("--tenants-file <path>", "write the tenants file (MDE_TENANTS_FILE) for its tenants there")
    .option("--cert-dir <dir>", "where its self-signed certificate is created and kept", D.certDir)
    .option(
      "--cert-host <names>",
      "extra DNS names or IPs for the certificate (comma-separated)",
      collect,
      [],
    )
    .option("--json", "print one JSON line with url, port, certPath and env instead of the text")
    .option("--quiet", "do not log each request on stderr")
    .action(async (raw: RawSimulatorOptions) => {
      // Before the first await: a signal while it starts is kept, and stops it once it listens.
      const shutdown = shutdownSignal();
      try {
        const parsed = parseSimulatorOptions(raw, process.cwd());
        const certPath = certificate(parsed);
        const sim = await listen(parsed, certPath, raw.quiet ? undefined : (line) => log(line));
        if (parsed.sim.actions) for (const tenant of sim.tenants) addMissingVariety(tenant.store);
        const env = workerEnv(sim, parsed, certPath);
        const tenants =
          sim.tenants.length > 1 || parsed.tenantsFilePath ? simulatorTenantsFile(sim) : undefined;
        if (tenants && parsed.tenantsFilePath) {
          writeTenantsFile(parsed.tenantsFilePath, tenants);
          env.MDE_TENANTS_FILE = parsed.tenantsFilePath;
        }
        const { secondAuthorityHost } = sim;
        const announcement = { url: sim.url, port: sim.port, certPath, env, secondAuthorityHost, tenants };
        process.stdout.write(
          raw.json
            ? `${JSON.stringify(announcement)}\n`
            : simulatorBanner(sim, parsed, { certPath, env, tenants }),
        );
        const signal = await shutdown.received;
        await sim.close();
        if (!raw.json) log(`${signal} received, simulator stopped`);
      } finally {
        shutdown.release();
      }
      // A client's kept-alive socket must not hold the process open after a clean stop.
      process.exit(0);
    });
}

const collect = (value: string, previous: string[]) => [...previous, value];
const log = (line: string) => process.stderr.write(`[simulator] ${line}\n`);
const WILDCARD_OR_LOOPBACK = new Set(["0.0.0.0", "::", "127.0.0.1", "localhost"]);

function certificate(parsed: ParsedSimulatorOptions): string {
  const host = parsed.sim.host ?? D.host;
  // A client that reaches the simulator by the address it listens on must find that name in the certificate.
  const hosts = WILDCARD_OR_LOOPBACK.has(host) ? parsed.certHosts : [...parsed.certHosts, host];
  try {
    return ensureServerCert(parsed.certDir, hosts).certPath;
  } catch (err) {
    const why = errorMessage(err);
    throw new OperationalError(
      `Could not create the simulator's certificate in ${parsed.certDir} (${why}); it needs the openssl command and a writable directory (--cert-dir).`,
    );
  }
}

async function listen(
  parsed: ParsedSimulatorOptions,
  certPath: string,
  logLine: ((line: string) => void) | undefined,
): Promise<Simulator> {
  const keyPath = certPath.replace(/\.crt$/, ".key");
  const clientCertPem = parsed.clientCertPath === undefined ? undefined : clientCert(parsed.clientCertPath);
  try {
    const tls = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
    return await startSimulator({ ...parsed.sim, clientCertPem, tls, log: logLine });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${parsed.sim.host}:${parsed.sim.port}`;
    if (code === "EADDRINUSE")
      throw new OperationalError(`Port ${where} is already in use; pass another --port, or --port 0.`);
    if (code === "EACCES" || code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
      throw new OperationalError(`Cannot listen on ${where} (${code}); check --host and --port.`);
    throw err;
  }
}

function clientCert(path: string): Buffer {
  try {
    const pem = readFileSync(path);
    void new X509Certificate(pem).fingerprint256;
    return pem;
  } catch (err) {
    const why = errorMessage(err);
    throw new UsageError(
      `--client-cert ${JSON.stringify(path)} must be a readable PEM certificate (${why}).`,
    );
  }
}

/** A custom seed or a small --actions may miss a status or type; playbook authors expect to find each. */
function addMissingVariety(store: ActionStore): void {
  const present = store.list();
  for (const type of ACTION_TYPES.filter((t) => !present.some((a) => a.type === t)))
    store.add({ type, status: "Pending", visibleAfter: 0 });
  for (const status of ACTION_STATUSES.filter((s) => !present.some((a) => a.status === s)))
    store.add({ status, visibleAfter: 0 });
}

function workerEnv(sim: Simulator, parsed: ParsedSimulatorOptions, certPath: string): Record<string, string> {
  const env: Record<string, string> = {
    MDE_API_BASE_URL: sim.url,
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    AZURE_TENANT_ID: parsed.sim.tenantId,
    AZURE_CLIENT_ID: parsed.sim.clientId,
    // The simulator's own fake secret (simulator-secret unless --client-secret): not a real credential.
    AZURE_CLIENT_SECRET: parsed.sim.clientSecret ?? D.clientSecret,
    NODE_EXTRA_CA_CERTS: certPath,
  };
  // A worker budgeted like Microsoft would hit a stricter simulator's 429s; match its windows instead.
  const custom = parsed.rateLimitsText.trim();
  if (custom !== D.rateLimits && custom.toLowerCase() !== "none") env.MDE_RATE_LIMITS = custom;
  return env;
}
