import type { Queue } from "bullmq";
import type { TenantInfo } from "../shared/config/tenant-directory.js";
import { ENDPOINTS, type Endpoint } from "../shared/defender/endpoints.js";
import type { CallbackStore, DeliveryCounts } from "../shared/redis/callback-store.js";
import type { CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import type { RateLimiter } from "../shared/redis/rate-limiter.js";
import type { RateLimiterStatus } from "../shared/redis/rate-limiter-status.js";

/**
 * Unconsumed results past which `status` warns: a results queue nobody reads grows without bound
 * (each result stays until a subscriber takes it), and Redis holds it all in memory.
 */
export const RESULTS_BACKLOG_WARNING = 10_000;

/** The budget of one tenant and endpoint, as every worker sharing the limiter sees it. */
export interface BudgetStatus extends RateLimiterStatus {
  tenantId: string;
  /** The tenant's name from MDE_TENANTS_FILE; its id without a file. */
  tenant: string;
  endpoint: Endpoint;
}

/** Something an operator should act on, with the queue it concerns. */
export interface StatusWarning {
  queue: string;
  /** Results waiting for a subscriber (waiting, prioritized, delayed or paused). */
  unconsumed: number;
  message: string;
}

/** What `mde-cancel status` shows: the same object its `--json` prints. */
export interface ProducerStatus {
  /** Job counts by state, per queue name (the cancel queue first, then each results queue). */
  jobs: Record<string, Record<string, number>>;
  /** Per tenant (in the file's order) and endpoint. */
  budget: BudgetStatus[];
  /**
   * Campaigns within the retention with actions still waiting for their outcome, newest first; with
   * `etaMs`, their time left at their tenant's budget (campaign-eta.ts), when the tenant is served.
   */
  campaigns: (CampaignRecord & { etaMs?: number })[];
  /** Callback deliveries still to send, and those `serve` gave up. */
  callbacks: DeliveryCounts;
  /** Results queues holding more than RESULTS_BACKLOG_WARNING unconsumed results. */
  warnings: StatusWarning[];
}

/** Jobs per queue cost one call each; jobs per tenant are not countable cheaply, so each tenant shows its budget. */
export async function readStatus(
  [cancelQueue, ...resultsQueues]: readonly [Queue, ...Queue[]],
  budgetOf: (tenant: TenantInfo) => Pick<RateLimiter, "status">,
  store: Pick<CampaignStore, "list">,
  tenants: readonly TenantInfo[],
  callbacks: Pick<CallbackStore, "counts">,
  backlogWarning = RESULTS_BACKLOG_WARNING,
): Promise<ProducerStatus> {
  const jobs = Object.fromEntries(
    await Promise.all(
      [cancelQueue, ...resultsQueues].map(async (q) => [q.name, await q.getJobCounts()] as const),
    ),
  );
  const budget = await Promise.all(
    tenants.flatMap((t) =>
      ENDPOINTS.map(async (endpoint) => ({
        tenantId: t.tenantId,
        tenant: t.name,
        endpoint,
        ...(await budgetOf(t).status(t.tenantId, endpoint)),
      })),
    ),
  );
  const campaigns = (await store.list()).filter((c) => c.done < c.total);
  const warnings = resultsQueues.flatMap((q) => backlog(q.name, jobs[q.name] ?? {}, backlogWarning));
  return { jobs, budget, campaigns, callbacks: await callbacks.counts(), warnings };
}

function backlog(queue: string, counts: Record<string, number>, above: number): StatusWarning[] {
  const unconsumed = ["waiting", "prioritized", "delayed", "paused"].reduce(
    (n, s) => n + (counts[s] ?? 0),
    0,
  );
  if (unconsumed <= above) return [];
  const message = `results queue ${queue} holds ${unconsumed.toLocaleString("en-US")} unconsumed results (more than ${above.toLocaleString("en-US")}): no subscriber keeps up with it; start one, or take ${queue} out of RESULTS_QUEUE (results stay readable with mde-cancel results)`;
  return [{ queue, unconsumed, message }];
}
