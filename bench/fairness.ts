/**
 * Fairness between tenants and the cost of many tenants (issue 14), for the section "Tenants" of
 * docs/benchmarks.md (fairness-report.ts writes it). Runs alone (about three minutes):
 * `BENCH_ONLY=fairness npx tsx bench/run.ts`.
 *
 * 1. Tenant A drains a campaign of 800 jobs while tenant B sends an urgent cancel and starts a
 *    campaign of 50, each tenant on 10/2s (8 for campaigns), one worker: before (every campaign
 *    job added at once) and after (jobs/campaign-pace.ts), side by side.
 * 2. 200 tenants: the Redis keys and memory each one's budget and pace hold, and the RSS and Redis
 *    connections of a worker process serving them (tenant-cost.ts).
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { ensureServerCert } from "../sim/certs.js";
import type { FairnessFigures } from "../test/support/fairness.js";
import { ROOT, round, tsxChild } from "./common.js";
import { redisCost, workerCost } from "./tenant-cost.js";

export const A_JOBS = 800;
export const B_JOBS = 50;

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

/** `rounds` runs of each scenario, interleaved; the table shows the median run (by B's campaign) and the range. */
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
