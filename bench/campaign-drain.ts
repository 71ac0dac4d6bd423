/**
 * Issue 13 part 4: a campaign where 60% of the actions are already terminal, drained by worker
 * processes at scaled windows, against the budget arithmetic of jobs/campaign-eta.ts. It only measures
 * calls (at the simulator) and time, so it shows whatever the product does: one GET per action, or
 * batched checks once they exist. `BENCH_ONLY=campaign npm run bench` runs it alone.
 */
import {
  type CampaignBudget,
  CHECK_BATCH,
  callsLeft,
  callsWithOwnGet,
  drainMs,
  etaForCalls,
} from "../jobs/campaign-eta.js";
import { enqueueCancels } from "../jobs/enqueue.js";
import { limitsText } from "./budget.js";
import type { DriverRun } from "./campaign-driver.js";
import { startCluster } from "./cluster.js";
import { TENANT, tsxChild, waitFor } from "./common.js";

export interface CampaignShape {
  actions: number;
  /** Share of the actions already terminal (Succeeded) when the campaign starts. */
  terminalShare: number;
  budget: CampaignBudget;
}

/** Microsoft's limits (100/1m, 1,500/1h per endpoint) at the default campaign share. */
export const REAL: CampaignShape = {
  actions: 10_000,
  terminalShare: 0.6,
  budget: {
    windows: [
      { limit: 100, windowMs: 60_000 },
      { limit: 1500, windowMs: 3_600_000 },
    ],
    campaignShare: 0.8,
  },
};

/** The same shape, a tenth of the calls, a sixtieth of the time: a minute is a second, an hour a minute. */
export const SCALED: CampaignShape = {
  actions: 1_000,
  terminalShare: 0.6,
  budget: {
    windows: [
      { limit: 10, windowMs: 1_000 },
      { limit: 150, windowMs: 60_000 },
    ],
    campaignShare: 0.8,
  },
};

export interface Computed {
  calls: { get: number; list: number; cancel: number };
  /** Campaign start to the last call. */
  drainMs: number;
}

/**
 * The two models: before, every job checks its action with a GET (the GET budget binds); after, the
 * campaign checks every id in batches before enqueuing (list calls, first), then each job not seen
 * terminal sends its cancel after a batched re-check (its status is no longer fresh).
 */
export function computeDrain(shape: CampaignShape): { before: Computed; after: Computed } {
  const terminal = Math.round(shape.actions * shape.terminalShare);
  const before = callsWithOwnGet(shape.actions, terminal);
  const precheck = Math.ceil(shape.actions / CHECK_BATCH);
  const left = callsLeft({ terminalSeen: terminal, toCancel: shape.actions - terminal });
  // The pre-check's list calls come first; the re-checks then share the list budget with nothing else.
  const precheckMs = drainMs(precheck, shape.budget);
  return {
    before: { calls: before, drainMs: etaForCalls(before, shape.budget) },
    after: {
      calls: { ...left, list: left.list + precheck },
      drainMs: precheckMs + etaForCalls(left, shape.budget),
    },
  };
}

export interface EtaCheck {
  /** Share of the drain elapsed when the ETA was read. */
  at: number;
  predictedMs: number;
  actualMs: number;
}
export interface CampaignDrainResult {
  shape: CampaignShape;
  workers: number;
  latencyMs: number;
  /** startCampaign called to the last job finished. */
  drainMs: number;
  /** startCampaign's own time (enqueue, and any state check it makes). */
  startMs: number;
  calls: { get: number; list: number; cancel: number };
  quota429s: number;
  etaChecks: EtaCheck[];
  computed: { before: Computed; after: Computed };
  date: string;
}

export async function measureCampaignDrain(
  shape: CampaignShape = SCALED,
  options: { workers?: number; concurrency?: number; latencyMs?: number } = {},
): Promise<CampaignDrainResult> {
  const workers = options.workers ?? 3;
  const latencyMs = options.latencyMs ?? 20;
  const c = await startCluster({
    name: "campaign",
    simLimits: [...shape.budget.windows],
    simLatencyMs: latencyMs,
    limits: limitsText(shape.budget.windows),
    workers,
    concurrency: options.concurrency ?? 10,
    env: { CAMPAIGN_BUDGET_SHARE: String(shape.budget.campaignShare) },
  });
  try {
    // Warm-up: each worker its token and a kept-alive connection. Urgent calls, within the headroom the
    // campaign's share leaves, and in no campaign log: the campaign starts on a whole share.
    const warm = await c.seed(workers, "Succeeded");
    await enqueueCancels(
      c.queue,
      warm.map((machineActionId) => ({ machineActionId, comment: "bench warm-up" })),
      { defaultTenantId: TENANT },
    );
    await waitFor("warm-up", async () => ((await c.completed()) >= workers ? true : undefined), 60_000);
    const terminal = Math.round(shape.actions * shape.terminalShare);
    const done = await c.seed(terminal, "Succeeded");
    const pending = await c.seed(shape.actions - terminal, "Pending");
    // Interleaved, as a real list of alerts' actions would be: 3 terminal, 2 pending, ...
    const ids: string[] = [];
    while (done.length + pending.length > 0) {
      const takeDone = pending.length === 0 || (ids.length % 5 < 3 && done.length > 0);
      ids.push((takeDone ? done.shift() : pending.shift()) as string);
    }
    const driver = tsxChild("campaign-driver.ts", c.env);
    await driver.ready;
    await c.sim.request({ op: "reset" });
    const run = await driver.request<DriverRun>({ op: "run", ids });
    await driver.stop();
    const stats = await c.stats();
    const ok = (e: string) => stats.counts[`${e}:200`] ?? 0;
    return {
      shape,
      workers,
      latencyMs,
      drainMs: run.finishedAt - run.startedAt,
      startMs: run.enqueuedAt - run.startedAt,
      calls: { get: ok("get"), list: ok("list"), cancel: ok("cancel") },
      quota429s: ["get", "list", "cancel"].reduce((n, e) => n + (stats.counts[`${e}:429`] ?? 0), 0),
      etaChecks: etaChecks(run),
      computed: computeDrain(shape),
      date: new Date().toISOString(),
    };
  } finally {
    await c.close();
  }
}

/** The ETA read right after the jobs were in, and at a quarter, half and three quarters of the drain. */
export function etaChecks(run: DriverRun): EtaCheck[] {
  const span = run.finishedAt - run.enqueuedAt;
  const checks: EtaCheck[] = [];
  for (const at of [0, 0.25, 0.5, 0.75]) {
    const s = run.samples.find((x) => x.at >= run.enqueuedAt + at * span && x.done < x.total);
    if (s) checks.push({ at, predictedMs: s.etaMs, actualMs: run.finishedAt - s.at });
  }
  return checks;
}
