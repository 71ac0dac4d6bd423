import type { Queue } from "bullmq";
import { ENDPOINTS, type Endpoint } from "../shared/defender/endpoints.js";
import type { CallbackStore, DeliveryCounts } from "../shared/redis/callback-store.js";
import type { CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import type { RateLimiter, RateLimiterStatus } from "../shared/redis/rate-limiter.js";

/** The budget of one tenant and endpoint, as every worker sharing the limiter sees it. */
export interface BudgetStatus extends RateLimiterStatus {
  tenantId: string;
  endpoint: Endpoint;
}

/** What `mde-cancel status` shows: the same object its `--json` prints. */
export interface ProducerStatus {
  /** Job counts by state, per queue name (the cancel queue first, then each results queue). */
  jobs: Record<string, Record<string, number>>;
  budget: BudgetStatus[];
  /** Campaigns within the retention with actions still waiting for their outcome, newest first. */
  campaigns: CampaignRecord[];
  /** Callback deliveries still to send, and those `serve` gave up. */
  callbacks: DeliveryCounts;
}

export async function readStatus(
  queues: readonly Queue[],
  limiter: Pick<RateLimiter, "status">,
  store: Pick<CampaignStore, "list">,
  tenantIds: readonly string[],
  callbacks: Pick<CallbackStore, "counts">,
): Promise<ProducerStatus> {
  const jobs = Object.fromEntries(
    await Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts()] as const)),
  );
  const budget = await Promise.all(
    tenantIds.flatMap((tenantId) =>
      ENDPOINTS.map(async (endpoint) => ({
        tenantId,
        endpoint,
        ...(await limiter.status(tenantId, endpoint)),
      })),
    ),
  );
  const campaigns = (await store.list()).filter((c) => c.done < c.total);
  return { jobs, budget, campaigns, callbacks: await callbacks.counts() };
}
