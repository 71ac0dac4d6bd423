import type { Producer } from "../jobs/producer.js";
import type { RateWindow } from "../shared/config/durations.js";
import { sleep } from "../shared/core/sleep.js";
import { campaignCap } from "../shared/redis/rate-limiter-options.js";
import type { Simulator } from "../sim/server.js";
import type { SimTenantOptions } from "../sim/simulator-options.js";
import { seededTenants } from "./simulator-options.js";
import { simulatorTenantsFile, writeTenantsFile } from "./simulator-tenants.js";

/** What each tenant but the first does while the first drains the demo's campaign. */
export const OTHER_CAMPAIGN = 60;

/**
 * The simulator's tenants beside the first (tenant-1), each with the demo's budget and no random
 * faults: their times then show the queue and their budget alone (tenant-1 shows the 429s and 5xx).
 */
export function demoSimTenants(count: number, window: RateWindow): SimTenantOptions[] {
  const faults = { p429: 0, p500: 0, p503: 0 };
  return seededTenants(7, count, false).map((t) => ({ ...t, rateLimits: [window], faults }));
}

/** Writes the tenants file of every simulator tenant, each with the demo's budget (`limits`). */
export function writeDemoTenantsFile(sim: Simulator, path: string, limits: string): void {
  const file = simulatorTenantsFile(sim);
  writeTenantsFile(path, { ...file, tenants: file.tenants.map((t) => ({ ...t, rateLimits: limits })) });
}

interface TenantFairness {
  name: string;
  urgentMs: number;
  campaignMs: number;
}

/**
 * Every tenant but the first sends one urgent cancel and starts a campaign of OTHER_CAMPAIGN
 * once the first's campaign (`draining`) is under way, so they meet its backlog and not workers
 * still starting; resolves once each finished, with how long each took.
 */
export async function otherTenantsTraffic(
  producer: Producer,
  sim: Simulator,
  draining: string,
): Promise<TenantFairness[]> {
  while (((await producer.campaign(draining))?.done ?? 0) === 0) await sleep(100);
  return Promise.all(
    sim.tenants.slice(1).map(async (tenant) => {
      const pending = () => tenant.store.add({ status: "Pending", visibleAfter: 0 }).id;
      const urgent = pending();
      const ids = Array.from({ length: OTHER_CAMPAIGN }, pending);
      const started = Date.now();
      const [job] = await producer.enqueue([
        { machineActionId: urgent, comment: "demo", tenantId: tenant.id },
      ]);
      const campaign = await producer.startCampaign({
        tenantId: tenant.id,
        source: { ids, label: "demo" },
        comment: "mde-cancel demo",
      });
      let urgentMs = 0;
      for (;;) {
        const view = job && (await producer.job(job.jobId));
        if (!urgentMs && view?.result) urgentMs = Date.now() - started;
        const record = await producer.campaign(campaign.campaignId);
        if (urgentMs && record && record.done >= record.total)
          return { name: tenant.name, urgentMs, campaignMs: Date.now() - started };
        await sleep(100);
      }
    }),
  );
}

/** The summary's fairness lines: each other tenant's times against what its own budget allows. */
export function fairnessLines(others: TenantFairness[], window: RateWindow, share: number): string[] {
  const cap = campaignCap(window.limit, share);
  const idealMs = (Math.ceil(OTHER_CAMPAIGN / cap) - 1) * window.windowMs;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const ideal = idealMs === 0 ? "all of it in the first window" : `it in ${s(idealMs)} plus one call`;
  return [
    "",
    `Fairness: the other tenants, while tenant-1 drained its campaign (every tenant ${window.limit} calls per ${s(window.windowMs)}, ${cap} for campaigns)`,
    ...others.map(
      (t) =>
        `  ${t.name.padEnd(10)} urgent cancel ${s(t.urgentMs).padStart(7)}   campaign of ${OTHER_CAMPAIGN} ${s(t.campaignMs).padStart(7)}  (its own budget allows ${ideal})`,
    ),
  ];
}
