/**
 * Fairness between tenants and the cost of many tenants (issue 14), for the section "Tenants" of
 * docs/benchmarks.md. Runs alone (about three minutes):
 * `BENCH_ONLY=fairness npx tsx bench/run.ts`.
 *
 * 1. Tenant A drains a campaign of 800 jobs while tenant B sends an urgent cancel and starts a
 *    campaign of 50, each tenant on 10/2s (8 for campaigns), one worker: before (every campaign
 *    job added at once) and after (jobs/campaign-pace.ts), side by side.
 * 2. 200 tenants: the Redis keys and memory each one's budget and pace hold, and the RSS and Redis
 *    connections of a worker process serving them (200 msal clients, each with its token).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { seededTenants } from "../cli/simulator-options.js";
import { simulatorTenantsFile, writeTenantsFile } from "../cli/simulator-tenants.js";
import { parseRateLimits } from "../shared/config/durations.js";
import type { Endpoint } from "../shared/defender/endpoints.js";
import { PaceCursor } from "../shared/redis/pace-cursor.js";
import { RateLimiter } from "../shared/redis/rate-limiter.js";
import { ensureServerCert } from "../sim/certs.js";
import { startSimulator } from "../sim/server.js";
import type { FairnessFigures } from "../test/support/fairness.js";
import {
  CERT_DIR,
  CLIENT,
  cliArgs,
  deleteKeys,
  ROOT,
  redis,
  redisUrl,
  round,
  rssMiB,
  SECRET,
  sleep,
  spawnChild,
  TENANT,
  tsxChild,
  uniquePrefix,
  waitFor,
} from "./common.js";
import { putSection } from "./put-section.js";
import { rows } from "./report.js";
export const FAIRNESS_HEADING = "## 11. Tenants: fairness and the cost of many";
const A_JOBS = 800;
const B_JOBS = 50;
/** Runs of each, interleaved; the table shows the median run (by B's campaign) and the range. */

export interface TenantCost {
  tenants: number;
  redisKeys: number;
  redisBytes: number;
  workerRssMiB: number;
  oneTenantRssMiB: number;
  redisConnections: number;
  tokens: number;
}
export interface FairnessBench {
  /** The 1-minute load average when the scenarios ended: the churn before the pace is CPU-bound. */
  load: number;
  before: FairnessFigures;
  after: FairnessFigures;
  /** B's campaign of every run, in windows. */
  beforeRuns: number[];
  afterRuns: number[];
  cost: TenantCost;
}

async function scenario(paced: boolean): Promise<FairnessFigures> {
  const certDir = join(ROOT, ".cache", "test-certs");
  const child = tsxChild("fairness-child.ts", {
    BENCH_FAIRNESS: JSON.stringify({ aJobs: A_JOBS, bJobs: B_JOBS, paced }),
    NODE_EXTRA_CA_CERTS: ensureServerCert(certDir).certPath,
    MDE_TEST_CERT_DIR: certDir,
  });
  try {
    return (await child.ready) as FairnessFigures;
  } finally {
    await child.stop();
  }
}

/** Redis keys and bytes 200 tenants' budgets and paces hold while each has a campaign in flight. */
async function redisCost(tenants: number): Promise<{ keys: number; bytes: number }> {
  const r = redis();
  const prefix = uniquePrefix("tenants");
  const limiter = new RateLimiter(r, {
    prefix,
    windows: parseRateLimits("100/1m,1500/1h") ?? [],
    campaignShare: 0.8,
  });
  const pace = new PaceCursor(r, prefix);
  try {
    for (let i = 0; i < tenants; i++) {
      const tenantId = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      for (const endpoint of ["get", "cancel"] as Endpoint[]) {
        const taken = await limiter.take(tenantId, endpoint, { campaign: true });
        if (taken.ok) await taken.settle();
      }
      await pace.reserve(tenantId, 50, 3_000);
    }
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== "0");
    let bytes = 0;
    for (const key of keys) bytes += Number(await r.memory("USAGE", key));
    return { keys: keys.length, bytes };
  } finally {
    await deleteKeys(prefix);
    r.disconnect();
  }
}

/** TCP connections of process `pid` to Redis's port, read from /proc (sockets it holds open). */
function redisConnections(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let count = 0;
  for (const table of ["tcp", "tcp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[2]?.endsWith(`:${hexPort}`) && f[3] === "01" && inodes.has(f[9] as string))
        count++;
    }
  }
  return count;
}

/** A worker process serving `tenants` tenants of the simulator, once each has its token: RSS, connections. */
async function workerCost(tenants: number): Promise<{ rssMiB: number; connections: number; tokens: number }> {
  const tls = ensureServerCert(CERT_DIR);
  const sim = await startSimulator({
    tls: { key: readFileSync(tls.keyPath), cert: readFileSync(tls.certPath) },
    tenantId: TENANT,
    tenantName: "tenant-1",
    clientId: CLIENT,
    clientSecret: SECRET,
    ...(tenants > 1 ? { tenants: seededTenants(7, tenants, false) } : {}),
  });
  const file = join(ROOT, ".cache", `bench-tenants-${tenants}.json`);
  writeTenantsFile(file, simulatorTenantsFile(sim));
  const prefix = uniquePrefix("tenants");
  const worker = spawnChild([...cliArgs(), "worker"], {
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: prefix,
    MDE_TENANTS_FILE: file,
    MDE_API_BASE_URL: sim.url,
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    AZURE_CLIENT_ID: CLIENT,
    AZURE_CLIENT_SECRET: SECRET,
    METRICS_PORT: "0",
    LOG_LEVEL: "warn",
    NODE_EXTRA_CA_CERTS: tls.certPath,
  });
  try {
    await waitFor(
      "every tenant's token",
      async () => (sim.tokenRequests() >= tenants ? true : undefined),
      120_000,
    );
    await sleep(3_000); // settle: the last tokens cached, the event loop idle
    const port = Number(new URL(redisUrl()).port || 6379);
    const pid = worker.proc.pid as number;
    return { rssMiB: rssMiB(pid), connections: redisConnections(pid, port), tokens: sim.tokenRequests() };
  } finally {
    await worker.stop();
    await sim.close();
    await deleteKeys(prefix);
  }
}

export async function measureFairness(
  rounds: number,
  say: (line: string) => void = () => undefined,
): Promise<FairnessBench> {
  const runs: Record<"before" | "after", FairnessFigures[]> = { before: [], after: [] };
  for (let run = 1; run <= rounds; run++) {
    for (const paced of [false, true]) {
      const f = await scenario(paced);
      runs[paced ? "after" : "before"].push(f);
      const name = paced ? "after (paced)" : "before (all at once)";
      say(
        `fairness ${run}/${rounds}: A drains ${A_JOBS}, ${name}: B's campaign ${round(f.bDrainMs / f.windowMs, 2)} windows`,
      );
    }
  }
  const median = (all: FairnessFigures[]) =>
    [...all].sort((x, y) => x.bDrainMs - y.bDrainMs)[Math.floor(all.length / 2)] as FairnessFigures;
  const windows = (all: FairnessFigures[]) => all.map((f) => round(f.bDrainMs / f.windowMs, 2));
  const before = median(runs.before);
  const after = median(runs.after);
  const load = loadavg()[0] ?? Number.NaN;
  const TENANTS = 200;
  const { keys, bytes } = await redisCost(TENANTS);
  const one = await workerCost(1);
  const many = await workerCost(TENANTS);
  say(`tenants: ${keys} keys, worker ${round(many.rssMiB)} MiB (1 tenant: ${round(one.rssMiB)} MiB)`);
  return {
    load,
    before,
    after,
    beforeRuns: windows(runs.before),
    afterRuns: windows(runs.after),
    cost: {
      tenants: TENANTS,
      redisKeys: keys,
      redisBytes: bytes,
      workerRssMiB: many.rssMiB,
      oneTenantRssMiB: one.rssMiB,
      redisConnections: many.connections,
      tokens: many.tokens,
    },
  };
}

const nproc = () => cpus().length;

export function fairnessSection(f: FairnessBench): string[] {
  const w = (ms: number, windowMs: number) => `${round(ms / windowMs, 2)} windows (${round(ms / 1000, 1)} s)`;
  const line = (name: string, x: FairnessFigures) => [
    name,
    w(x.urgentMs, x.windowMs),
    w(x.bDrainMs, x.windowMs),
    `${round((100 * x.bDrainMs) / x.bIdealMs - 100, 1)}%`,
    `${x.aCancelsMeanwhile} / ${x.aBudgetMeanwhile}`,
    `${x.aRefused} / ${x.aWaiting}`,
    x.quota429s,
  ];
  const c = f.cost;
  return [
    FAIRNESS_HEADING,
    "",
    `Tenant A drains a campaign of ${A_JOBS} jobs; then tenant B enqueues one urgent cancel and starts a campaign`,
    `of ${B_JOBS}. Both tenants have 10 calls per 2 s (8 for campaigns), one worker process (concurrency 10)`,
    "serves both, the simulator counts at arrival. Times from B's enqueue to the arrival of its cancels. B's",
    `ideal: a perfect client of its campaign budget, ${round(f.after.bIdealMs / f.after.windowMs)} windows for ${B_JOBS} jobs.`,
    "The targets: B's urgent cancel within one window plus one call; B's campaign within 10% of its ideal.",
    "A jobs taken for nothing: A's waiting jobs a worker had taken and put back for want of budget when B's",
    "campaign finished (the churn B's jobs wait behind; how long it takes depends on the CPU).",
    `Median of ${f.afterRuns.length} runs each, interleaved, on ${nproc()} cores at a load average of ${round(f.load, 1)} (B's`,
    `campaign in every run, in windows: before ${f.beforeRuns.join(", ")}; after ${f.afterRuns.join(", ")}).`,
    "",
    ...rows(
      [
        "campaign enqueue",
        "B urgent",
        "B campaign",
        "over ideal",
        "A cancels meanwhile / budget",
        "A jobs taken for nothing / waiting",
        "429s",
      ],
      [line("before: all at once", f.before), line("after: paced (campaign-pace.ts)", f.after)],
    ),
    "",
    `${c.tenants} tenants, each with a campaign in flight: their budgets (get and cancel, 100/1m,1500/1h) and`,
    `pace cursors hold ${c.redisKeys} Redis keys, ${round(c.redisBytes / 1024)} KiB (${round(c.redisBytes / c.tenants)} B a tenant;`,
    "each job's own ~1.6 KB is counted in section 4). A worker process serving them, once every tenant has",
    `its token (${c.tokens} token requests: one msal client each): RSS ${round(c.workerRssMiB)} MiB against`,
    `${round(c.oneTenantRssMiB)} MiB for one tenant; ${c.redisConnections} Redis connections, the same as for one tenant (one queue,`,
    "one blocking connection, whatever the number of tenants).",
    "",
  ];
}

/** Puts the section into docs/benchmarks.md, replacing an earlier one, before "What limits the numbers". */
export function putFairnessSection(path: string, f: FairnessBench): void {
  putSection(path, FAIRNESS_HEADING, fairnessSection(f).join("\n"));
}
