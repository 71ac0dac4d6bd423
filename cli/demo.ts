import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Producer } from "../jobs/producer.js";
import { parseConfig } from "../shared/config/config.js";
import { OperationalError } from "../shared/core/errors.js";
import { sleep } from "../shared/core/sleep.js";
import { connectRedis } from "../shared/redis/connection.js";
import { ensureServerCert } from "../sim/certs.js";
import { type Simulator, startSimulator } from "../sim/server.js";
import { ProgressView, printSummary } from "./campaign-view.js";
import { demoSimTenants, fairnessLines, otherTenantsTraffic, writeDemoTenantsFile } from "./demo-tenants.js";
import { freePort } from "./free-port.js";
import { SIMULATOR_DEFAULTS } from "./simulator-options.js";

/** The simulator's own fake app registration: not a real credential. */
const { tenant: TENANT, clientId: CLIENT, clientSecret: SECRET } = SIMULATOR_DEFAULTS;
/** Faster than Microsoft's 100/min, so the demo shows budgeting, throttling and retries in seconds. */
const DEMO_LIMITS = "150/5s";
const DEMO_WINDOW = { limit: 150, windowMs: 5_000 };

export interface DemoOptions {
  env: NodeJS.ProcessEnv;
  actions: number;
  workers: number;
  /** More than 1: tenant-1 runs the campaign while each other tenant sends an urgent cancel and a small campaign. */
  tenants?: number;
  out: NodeJS.WritableStream;
}

/**
 * The whole mission on the bundled simulator: Redis (the configured one, or a private
 * redis-server), the simulator with injected 429s and 5xx, two worker processes and a campaign
 * of a few hundred actions in mixed states, then what happened.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const say = (line: string) => options.out.write(`${line}\n`);
  const tenantCount = options.tenants ?? 1;
  const redisServer = await ensureRedis(options.env.REDIS_URL ?? "redis://127.0.0.1:6379", say);
  const certDir = join(process.cwd(), ".cache", "demo-certs");
  const tls = ensureServerCert(certDir);
  let sim: Simulator | undefined;
  const workers: ChildProcess[] = [];
  let producer: Producer | undefined;
  const tenantsFile = join(certDir, `tenants-${process.pid}.json`);
  try {
    sim = await startSimulator({
      tls: { key: readFileSync(tls.keyPath), cert: readFileSync(tls.certPath) },
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: SECRET,
      rateLimits: [DEMO_WINDOW],
      ...(tenantCount > 1
        ? { tenantName: "tenant-1", tenants: demoSimTenants(tenantCount, DEMO_WINDOW) }
        : {}),
      faults: { p429: 0.02, p500: 0.02 },
      drift: { intervalMs: 500, stepProbability: 0.02 },
      seed: 7,
    });
    const env: Record<string, string> = {
      ...(options.env as Record<string, string>),
      REDIS_URL: redisServer.url,
      QUEUE_PREFIX: options.env.QUEUE_PREFIX || `demo-${process.pid}`,
      MDE_API_BASE_URL: sim.url,
      AZURE_AUTHORITY_HOST: sim.url,
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_SECRET: SECRET,
      MDE_RATE_LIMITS: DEMO_LIMITS,
      NOT_FOUND_GRACE_MS: "3000",
      METRICS_PORT: "0",
      LOG_LEVEL: "warn",
      NODE_EXTRA_CA_CERTS: tls.certPath,
    };
    delete env.AZURE_CLIENT_CERTIFICATE_PATH;
    if (tenantCount > 1) {
      env.MDE_TENANTS_FILE = tenantsFile;
      writeDemoTenantsFile(sim, tenantsFile, DEMO_LIMITS);
    } else delete env.MDE_TENANTS_FILE;
    const config = parseConfig(env);
    say(
      `Simulator: ${sim.url} (Defender API and Entra ID, ${DEMO_LIMITS} per endpoint, random 429s and 500s)`,
    );

    const ids = seedActions(sim, options.actions);
    for (let i = 0; i < options.workers; i++) workers.push(startWorker(env));
    say(
      `Workers: ${options.workers} processes, ${config.workerConcurrency} jobs each, one shared budget in Redis`,
    );

    producer = await Producer.open(config);
    const started = await producer.startCampaign({
      tenantId: TENANT,
      source: { ids, label: "demo" },
      comment: "mde-cancel demo",
    });
    say(`Campaign ${started.campaignId}: ${started.added} actions enqueued\n`);
    const others =
      tenantCount > 1 ? otherTenantsTraffic(producer, sim, started.campaignId) : Promise.resolve([]);

    const view = new ProgressView(options.out, Boolean((options.out as NodeJS.WriteStream).isTTY));
    const record = await producer.waitForCampaign(started.campaignId, {
      intervalMs: 250,
      onSample: (s) => view.update(s),
    });
    view.stop();
    if (!record) return 1;
    say("");
    printSummary(options.out, record, [], false);
    const count = (pred: (r: Simulator["requests"][number]) => boolean) =>
      sim?.requests.filter(pred).length ?? 0;
    say("\nWhat happened");
    say(
      `  Defender calls            ${count((r) => ["get", "list", "cancel"].includes(String(r.endpoint)))}`,
    );
    say(
      `  429s absorbed             ${count((r) => r.status === 429)} (every worker paused for Retry-After)`,
    );
    say(`  5xx retried               ${count((r) => (r.status ?? 0) >= 500)}`);
    say(`  terminal actions skipped  ${record.counts.already_terminal} (no cancel sent)`);
    say(`  ids Defender did not know ${record.counts.not_found} (re-checked for NOT_FOUND_GRACE_MS first)`);
    say(`  token requests            ${sim.tokenRequests()} (msal cache shared by each worker's jobs)`);
    if (tenantCount > 1)
      for (const line of fairnessLines(await others, DEMO_WINDOW, config.campaignBudgetShare)) say(line);
    return record.counts.failed > 0 ? 1 : 0;
  } finally {
    rmSync(tenantsFile, { force: true });
    for (const w of workers) w.kill("SIGTERM");
    await Promise.all(
      workers.map(
        (w) => new Promise((resolve) => (w.exitCode !== null ? resolve(0) : w.once("exit", resolve))),
      ),
    );
    await producer?.close();
    await sim?.close();
    redisServer.stop();
  }
}

/** Actions in every state, plus a few ids Defender never heard of. */
function seedActions(sim: Simulator, n: number): string[] {
  const statuses = [
    "Pending",
    "Pending",
    "Pending",
    "InProgress",
    "Succeeded",
    "Failed",
    "Cancelled",
    "TimeOut",
  ] as const;
  const types = [
    "Isolate",
    "RunAntiVirusScan",
    "LiveResponse",
    "CollectInvestigationPackage",
    "RestrictCodeExecution",
  ];
  const ids: string[] = [];
  for (let i = 0; i < n - 5; i++)
    ids.push(
      sim.store.add({ status: statuses[i % statuses.length], type: types[i % types.length] as never }).id,
    );
  for (let i = 0; i < 5; i++) ids.push(crypto.randomUUID());
  return ids;
}

function startWorker(env: Record<string, string>): ChildProcess {
  // The same CLI this process runs (dist/cli/main.js, or cli/main.ts under tsx).
  return spawn(process.execPath, [...process.execArgv, process.argv[1] as string, "worker"], {
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** The configured Redis if it answers; else a private redis-server on a free port, without persistence. */
async function ensureRedis(
  url: string,
  say: (l: string) => void,
): Promise<{ url: string; stop: () => void }> {
  try {
    const probe = await connectRedis(url, { blocking: false, timeoutMs: 2_000 });
    probe.disconnect();
    say(`Redis: ${url.replace(/\/\/[^@]*@/, "//***@")}`);
    return { url, stop: () => undefined };
  } catch {
    // fall through to a private server
  }
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const spawned = await new Promise<boolean>((resolve) => {
    child.once("error", () => resolve(false));
    child.once("spawn", () => resolve(true));
  });
  const privateUrl = `redis://127.0.0.1:${port}`;
  // It listens a few ms after it started; until then connections are refused.
  for (const deadline = Date.now() + 5_000; spawned && child.exitCode === null && Date.now() < deadline; ) {
    try {
      const probe = await connectRedis(privateUrl, { blocking: false, timeoutMs: 1_000 });
      probe.disconnect();
      say(`Redis: none at ${url}; started redis-server on port ${port} for this demo`);
      return { url: privateUrl, stop: () => child.kill() };
    } catch {
      await sleep(100);
    }
  }
  child.kill();
  throw new OperationalError(
    `No Redis answers at ${url} and redis-server could not be started; install it (apt-get install redis-server, brew install redis) or run docker compose up -d redis.`,
  );
}
