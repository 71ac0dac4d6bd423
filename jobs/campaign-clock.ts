import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";
import type { CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import type { RateLimiterLog } from "../shared/redis/rate-limiter-log.js";
import { type BudgetHistory, type CampaignBudget, campaignEtaMs } from "./campaign-eta.js";
import type { PaceBudget } from "./campaign-pace.js";
import { loadOf, type ProgressSample, waitForCampaign } from "./campaign-progress.js";

/**
 * A campaign's time left, as `campaign --wait` and `status` show it: the jobs its record has left,
 * at its tenant's budget, after the campaign calls already in that tenant's windows.
 */
export class CampaignClock {
  constructor(
    private readonly store: CampaignStore,
    private readonly log: RateLimiterLog,
    private readonly tenants: () => TenantDirectory<TenantInfo>,
    /** The deployment's budget (MDE_RATE_LIMITS, CAMPAIGN_BUDGET_SHARE): a tenant without its own. */
    private readonly deployment: PaceBudget,
  ) {}

  /** A tenant's budget: its own from the tenants file, the deployment's otherwise. */
  budgetOf(tenantId: string | undefined): PaceBudget {
    return (tenantId === undefined ? undefined : this.tenants().resolve(tenantId)) ?? this.deployment;
  }

  /** Polls until every action has its outcome (see waitForCampaign), each sample with its ETA. */
  async wait(
    campaignId: string,
    options: { signal?: AbortSignal; intervalMs?: number; onSample?: (sample: ProgressSample) => void },
  ): Promise<CampaignRecord | undefined> {
    const first = await this.store.get(campaignId);
    const tenantId = first ? this.tenantOf(first) : undefined;
    const budget = budgetFor(this.budgetOf(tenantId));
    return waitForCampaign(this.store, campaignId, {
      ...options,
      budget,
      history: () => this.history(tenantId, budget),
    });
  }

  /** The record with its time left (none for a tenant no longer served). */
  async withEta(record: CampaignRecord): Promise<CampaignRecord & { etaMs?: number }> {
    const tenant = this.tenants().resolve(this.tenantOf(record) ?? "");
    if (!tenant) return record;
    const budget = budgetFor(tenant);
    const history = await this.history(tenant.tenantId, budget).catch(() => undefined);
    return { ...record, etaMs: campaignEtaMs(loadOf(record), budget, history) };
  }

  /** The tenant a campaign's calls are counted for: its own, else (records before tenants) the default. */
  private tenantOf(record: CampaignRecord): string | undefined {
    return record.tenantId ?? this.tenants().defaultTenant?.tenantId;
  }

  private async history(tenantId: string | undefined, budget: CampaignBudget): Promise<BudgetHistory> {
    if (tenantId === undefined) return {};
    const longestMs = Math.max(...budget.windows.map((w) => w.windowMs));
    return this.log.campaignCallAges(tenantId, longestMs);
  }
}

function budgetFor(budget: PaceBudget): CampaignBudget {
  return { windows: budget.rateLimits, campaignShare: budget.campaignBudgetShare };
}
