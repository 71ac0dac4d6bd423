/**
 * What many tenants cost, for the fairness section: the Redis keys and bytes their budgets and paces
 * hold, and the RSS and Redis connections of a worker process serving them. Apart from fairness.ts,
 * which times the scenarios, since these measure a steady state instead.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { seededTenants } from "../cli/simulator-options.js";
import { simulatorTenantsFile, writeTenantsFile } from "../cli/simulator-tenants.js";
import { parseRateLimits } from "../shared/config/durations.js";
import type { Endpoint } from "../shared/defender/endpoints.js";
import { PaceCursor } from "../shared/redis/pace-cursor.js";
import { RateLimiter } from "../shared/redis/rate-limiter.js";
import { ensureServerCert } from "../sim/certs.js";
import { startSimulator } from "../sim/server.js";
import {
  CERT_DIR,
  CLIENT,
  cliArgs,
  deleteKeys,
  ROOT,
  redis,
  redisUrl,
  rssMiB,
  SECRET,
  sleep,
  spawnChild,
  TENANT,
  uniquePrefix,
  waitFor,
} from "./common.js";

/** Redis keys and bytes 200 tenants' budgets and paces hold while each has a campaign in flight. */
export async function redisCost(tenants: number): Promise<{ keys: number; bytes: number }> {
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
export async function workerCost(
  tenants: number,
): Promise<{ rssMiB: number; connections: number; tokens: number }> {
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
