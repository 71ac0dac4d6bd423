import type { Queue } from "bullmq";
import type { TenantInfo } from "../shared/config/tenant-directory.js";
import { ENDPOINTS, type Endpoint } from "../shared/defender/endpoints.js";
import type { CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import type { RateLimiter, RateLimiterStatus } from "../shared/redis/rate-limiter.js";

/** The budget of one tenant and endpoint, as every worker sharing the limiter sees it. */
export interface BudgetStatus extends RateLimiterStatus {
  tenantId: string;
  /** The tenant's name from MDE_TENANTS_FILE; its id without a file. */
  tenant: string;
  endpoint: Endpoint;
}

/** What `mde-cancel status` shows: the same object its `--json` prints. */
export interface ProducerStatus {
  /** Job counts by state, per queue name (the cancel queue first, then each results queue). */
  jobs: Record<string, Record<string, number>>;
  /** Per tenant (in the file's order) and endpoint. */
  budget: BudgetStatus[];
  /** Campaigns within the retention with actions still waiting for their outcome, newest first. */
  campaigns: CampaignRecord[];
}

/** Jobs per queue cost one call each; jobs per tenant are not countable cheaply, so each tenant shows its budget. */
export async function readStatus(
  queues: readonly Queue[],
  budgetOf: (tenant: TenantInfo) => Pick<RateLimiter, "status">,
  store: Pick<CampaignStore, "list">,
  tenants: readonly TenantInfo[],
): Promise<ProducerStatus> {
  const jobs = Object.fromEntries(
    await Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts()] as const)),
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
  return { jobs, budget, campaigns };
}
