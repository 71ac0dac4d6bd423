/**
 * Calls per action of a campaign where 60% of the actions are terminal (issue 13): the same
 * campaign twice on the simulator (limits lifted, one worker process at concurrency 50), once
 * with its jobs carrying nothing (no lookup: as a producer without credentials, or HTTP) and once
 * checked in batches before enqueuing (`seen` on every job). Defender calls counted at arrival.
 */
import { loadavg } from "node:os";
import { startCluster } from "./cluster.js";
import { tsxChild } from "./common.js";

export interface SeenPhase {
  /** Defender calls by endpoint (get, cancel, list), as the simulator counted them. */
  calls: Record<string, number>;
  perAction: number;
  counts: Record<string, number>;
  /** From the start until every job was added (lookups included), and until the last result. */
  addedMs: number;
  drainMs: number;
}

export interface SeenResult {
  n: number;
  terminalShare: number;
  /** The old rule worked out: one GET per action, one cancel more per non-terminal one. */
  oldComputed: number;
  before: SeenPhase;
  after: SeenPhase;
  loadavg: string;
  date: string;
}

const DEFENDER = ["get", "cancel", "list"];

export async function measureSeen(n = 1_000, terminalShare = 0.6): Promise<SeenResult> {
  const c = await startCluster({
    name: "seen",
    simLimits: [],
    limits: "1000000/1m,100000000/1h",
    workers: 1,
    concurrency: 50,
  });
  try {
    const phase = async (lookUp: boolean): Promise<SeenPhase> => {
      const terminal = Math.round(n * terminalShare);
      const done = await c.sim.request<string[]>({ op: "seed", n: terminal, status: "Succeeded" });
      const pending = await c.seed(n - terminal);
      // Mixed all along, as a real ids file would be.
      const ids = [...done, ...pending].sort();
      await c.sim.request({ op: "reset" });
      const child = tsxChild("seen-campaign.ts", { ...c.env, BENCH_SEEN: JSON.stringify({ ids, lookUp }) });
      const run = (await child.ready) as Omit<SeenPhase, "calls" | "perAction">;
      await child.stop();
      const stats = await c.stats();
      const calls = Object.fromEntries(DEFENDER.map((e) => [e, 0]));
      for (const [key, count] of Object.entries(stats.counts)) {
        const endpoint = key.split(":")[0] as string;
        if (endpoint in calls) calls[endpoint] = (calls[endpoint] ?? 0) + count;
      }
      const total = Object.values(calls).reduce((a, b) => a + b, 0);
      return { ...run, calls, perAction: total / n };
    };
    const before = await phase(false);
    const after = await phase(true);
    return {
      n,
      terminalShare,
      oldComputed: terminalShare * 1 + (1 - terminalShare) * 2,
      before,
      after,
      loadavg: loadavg()
        .map((l) => l.toFixed(2))
        .join(" "),
      date: new Date().toISOString(),
    };
  } finally {
    await c.close();
  }
}
