/**
 * The fairness scenario of issue 14, scaled down: tenant A drains a large campaign while tenant B
 * sends one urgent cancel and starts a small campaign of its own, both tenants on the same small
 * budget, one worker serving both. Used by test/integration/fairness.test.ts and bench/fairness.ts
 * (which runs it with and without the paced enqueue, side by side).
 */
import { Redis } from "ioredis";
import { startCampaign } from "../../jobs/campaign.js";
import { Producer } from "../../jobs/producer.js";
import type { RateWindow } from "../../shared/config/durations.js";
import { CampaignStore } from "../../shared/redis/campaign-store.js";
import { CAMPAIGN_BUDGET_DELAY, keyPrefix } from "../../shared/redis/queues.js";
import { campaignCap } from "../../shared/redis/rate-limiter-options.js";
import type { JobState } from "../../worker/job-state.js";
import { type Harness, startHarness } from "./harness.js";
import { REDIS_URL } from "./redis.js";
import { tenantsFilePath, writeTenantsFile } from "./tenants.js";
import { waitFor } from "./wait.js";

export const TENANT_A = "a1a1a1a1-0000-4000-8000-00000000000a";
export const TENANT_B = "b2b2b2b2-0000-4000-8000-00000000000b";

export interface FairnessScenario {
  /** A's campaign (the 5,000, scaled down). */
  aJobs: number;
  /** B's campaign (the 50). */
  bJobs: number;
  /** Both tenants' budget, on the simulator and in the tenants file (default 10/2s). */
  window?: RateWindow;
  /** false: campaigns are added as before the paced enqueue, all at once (for the bench's "before"). */
  paced?: boolean;
}

export interface FairnessFigures {
  windowMs: number;
  /** B's urgent cancel: from its enqueue to its cancel's arrival at Defender. */
  urgentMs: number;
  /** B's campaign: from its start to its last cancel's arrival at Defender. */
  bDrainMs: number;
  /** B's campaign: from its first cancel's arrival at Defender to its last's. */
  bSpanMs: number;
  /** What a perfect client of B's campaign budget takes for that span: (ceil(n / cap) - 1) windows. */
  bIdealMs: number;
  /** A's cancels that arrived while B's campaign drained, and A's campaign budget for that time. */
  aCancelsMeanwhile: number;
  aBudgetMeanwhile: number;
  /**
   * A's campaign jobs a worker had taken and put back for want of budget (each such take is work
   * done before B's jobs are reached), counted when B's campaign finished.
   */
  aRefused: number;
  /** A's campaign jobs still waiting then. */
  aWaiting: number;
  /** Quota 429s of either tenant. */
  quota429s: number;
}

const cancelledId = (path: string) => /machineactions\/([^/]+)\/cancel/.exec(path)?.[1]?.toLowerCase();

/** Runs the scenario once and returns its figures, counted at the simulator's arrival. */
export async function runFairness(s: FairnessScenario): Promise<FairnessFigures> {
  const window = s.window ?? { limit: 10, windowMs: 2_000 };
  const limits = `${window.limit}/${window.windowMs}ms`;
  const file = tenantsFilePath();
  const h: Harness = await startHarness({
    sim: {
      tenantId: TENANT_A,
      tenantName: "a",
      rateLimits: [window],
      tenants: [{ tenantId: TENANT_B, name: "b", rateLimits: [window] }],
    },
    env: { MDE_TENANTS_FILE: file, AZURE_TENANT_ID: TENANT_A, LOG_LEVEL: "warn" },
  });
  writeTenantsFile(file, [
    { id: TENANT_A, name: "a", rateLimits: limits },
    { id: TENANT_B, name: "b", rateLimits: limits },
  ]);
  const producer = await Producer.open(h.config);
  const redis = new Redis(REDIS_URL);
  const store = new CampaignStore(redis, keyPrefix(h.config), h.config.resultRetentionMs);
  const campaign = (tenantId: string, ids: string[], name: string) => {
    const order = { tenantId, source: { ids, label: "fairness" }, comment: "bulk", campaignId: name };
    if (s.paced !== false) return producer.startCampaign(order);
    return startCampaign(h.cancelQueue, store, { ...order, ids, source: "fairness" });
  };
  const pending = (tenant: string, n: number) => {
    const actions = h.sim.tenant(tenant)?.store;
    return Array.from({ length: n }, () => actions?.add({ status: "Pending", visibleAfter: 0 }).id as string);
  };
  try {
    const cap = campaignCap(window.limit, h.config.campaignBudgetShare);
    await campaign(TENANT_A, pending("a", s.aJobs), "a-bulk");
    await h.startWorker();
    const cancels = (tenantId: string) =>
      h.sim.requests.filter((r) => r.tenant === tenantId && r.endpoint === "cancel" && r.status !== 429);
    // A drains: its first window's share went out, the rest of its backlog stands in the queue.
    await waitFor("A's first cancels", () => cancels(TENANT_A).length >= cap, 60_000);

    const [urgent] = pending("b", 1) as [string];
    const bIds = pending("b", s.bJobs);
    const t0 = Date.now();
    await producer.enqueue([{ machineActionId: urgent, comment: "now", tenantId: TENANT_B }]);
    await campaign(TENANT_B, bIds, "b-bulk");
    const wanted = new Set([urgent, ...bIds].map((id) => id.toLowerCase()));
    const done = () => cancels(TENANT_B).filter((r) => wanted.has(cancelledId(r.path) ?? ""));
    const bCancels = await waitFor(
      "every cancel of B",
      () => (done().length >= wanted.size ? done() : undefined),
      120_000 + 40 * s.aJobs,
      100,
    );
    const at = (id: string) =>
      bCancels.find((r) => cancelledId(r.path) === id.toLowerCase())?.at ?? Number.NaN;
    const bLast = Math.max(...bIds.map(at));
    const bFirst = Math.min(...bIds.map(at));
    const aJobs = (await h.cancelQueue.getJobs(["delayed", "prioritized", "waiting"])).filter(
      (j) => j.data.tenantId === TENANT_A,
    );
    const refused = aJobs.filter(
      (j) => (j.progress as JobState | undefined)?.delayedFor === CAMPAIGN_BUDGET_DELAY,
    );
    const aMeanwhile = cancels(TENANT_A).filter((r) => r.at >= t0 && r.at <= bLast).length;
    return {
      windowMs: window.windowMs,
      urgentMs: at(urgent) - t0,
      bDrainMs: bLast - t0,
      bSpanMs: bLast - bFirst,
      bIdealMs: (Math.ceil(s.bJobs / cap) - 1) * window.windowMs,
      aCancelsMeanwhile: aMeanwhile,
      aBudgetMeanwhile: Math.floor(((bLast - t0) / window.windowMs) * cap),
      aRefused: refused.length,
      aWaiting: aJobs.length,
      quota429s: h.sim.requests.filter((r) => r.status === 429 && r.endpoint !== "token").length,
    };
  } finally {
    redis.disconnect();
    await producer.close();
    await h.close();
  }
}
