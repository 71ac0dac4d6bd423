import type { MachineAction } from "../shared/contract/cancel-result.js";
import { UsageError } from "../shared/core/errors.js";
import type { DefenderClient } from "../shared/defender/defender-client.js";
import type { CampaignStore } from "../shared/redis/campaign-store.js";
import { cancellable, resolveFilter } from "./action-lookup.js";

/** Where a campaign's actions come from: exactly one of three. */
export type CampaignSource =
  /** Ids the caller read and checked (a file, a request body); `label` becomes the record's source. */
  | { ids: string[]; label: string }
  /** The cancellable actions matching an OData `$filter`; more than `max` is refused. */
  | { filter: string; max: number }
  /** The actions of that campaign whose outcome was failed, enqueued again into it. */
  | { retryFailed: string };

/** A campaign as a front door asks for it. */
export interface CampaignOrder {
  /** The tenant's id or its name from MDE_TENANTS_FILE; default the default tenant. */
  tenantId?: string;
  source: CampaignSource;
  comment: string;
  /** The campaign id (`--name`); default generated. A replay keeps the id of the campaign it retries. */
  campaignId?: string;
  /** BullMQ priority; default DEFAULT_CAMPAIGN_PRIORITY (1000), behind every urgent cancel. */
  priority?: number;
  requestedBy?: string;
}

/** What a dry run found; nothing was enqueued. */
export interface DryRun {
  source: string;
  ids: string[];
  /** The actions' current state when it could be known: a filter, or credentials to look the ids up. */
  looked?: MachineAction[];
  /** How many ids were looked up: all of a filter's, at most DRY_RUN_LOOKUP of the others. */
  lookedUp: number;
}

/** Asked with the number of actions about to be enqueued; false enqueues nothing. */
export type ConfirmCampaign = (count: number) => Promise<boolean>;

export interface ResolvedSource {
  ids: string[];
  /** What the campaign's record says it came from. */
  source: string;
  /** Every match as Defender listed it (a filter): what a dry run counts without looking up again. */
  listed?: MachineAction[];
  /** The campaign a replay goes back into. */
  replayOf?: string;
}

/** The ids a source stands for; a filter spends list budget, a replay reads the campaign's record. */
export async function resolveSource(
  source: CampaignSource,
  deps: {
    tenantId: string;
    store: Pick<CampaignStore, "get" | "failedActions">;
    client: () => Pick<DefenderClient, "listActions">;
  },
): Promise<ResolvedSource> {
  if ("ids" in source) return { ids: source.ids, source: source.label };
  if ("filter" in source) {
    const listed = await resolveFilter(deps.client(), deps.tenantId, source.filter, { max: source.max });
    return { ids: cancellable(listed), source: `filter ${source.filter}`, listed };
  }
  const campaignId = source.retryFailed;
  if (!(await deps.store.get(campaignId)))
    throw new UsageError(`No campaign ${campaignId} is kept in Redis.`);
  return {
    ids: await deps.store.failedActions(campaignId),
    source: `retry-failed ${campaignId}`,
    replayOf: campaignId,
  };
}
