/**
 * The simulator of Defender and Entra ID in a process of its own, so it never shares the bench
 * driver's or a worker's event loop. Settings come in BENCH_SIM (JSON); the driver talks over IPC:
 * `seed` adds actions (Pending unless told), `stats` counts requests, `requests` lists them, `reset` forgets them.
 */
import { readFileSync } from "node:fs";
import type { RateWindow } from "../shared/config/durations.js";
import { ensureServerCert } from "../sim/certs.js";
import type { ActionStatus } from "../sim/machine-action.js";
import { startSimulator } from "../sim/server.js";
import { CERT_DIR, CLIENT, SECRET, serveIpc, TENANT } from "./common.js";

const settings = JSON.parse(process.env.BENCH_SIM ?? "{}") as {
  rateLimits?: RateWindow[];
  latencyMs?: number;
};
const tls = ensureServerCert(CERT_DIR);
const sim = await startSimulator({
  tls: { key: readFileSync(tls.keyPath), cert: readFileSync(tls.certPath) },
  tenantId: TENANT,
  clientId: CLIENT,
  clientSecret: SECRET,
  rateLimits: settings.rateLimits ?? [],
  latencyMs: settings.latencyMs ?? 0,
});

serveIpc((m) => {
  switch (m.op) {
    case "seed": {
      const ids: string[] = [];
      for (let i = 0; i < Number(m.n); i++)
        ids.push(sim.store.add({ status: (m.status ?? "Pending") as ActionStatus, visibleAfter: 0 }).id);
      return ids;
    }
    case "stats": {
      const counts: Record<string, number> = {};
      for (const r of sim.requests) {
        const key = `${r.endpoint}:${r.status}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return { counts, tokens: sim.tokenRequests(), total: sim.requests.length };
    }
    case "requests":
      return sim.requests.map((r) => [r.endpoint, r.at, r.status]);
    case "reset":
      sim.requests.length = 0;
      return true;
    default:
      return undefined;
  }
});

process.once("SIGTERM", () => {
  sim.close().finally(() => process.exit(0));
});
process.send?.({ ready: { url: sim.url, pid: process.pid } });
