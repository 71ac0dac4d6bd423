/** Where campaigns and dry runs learn the state of actions: filters and id lookups (list budget). */
import { isTerminal, type MachineAction } from "../shared/contract/cancel-result.js";
import { type SeenStatus, seenSchema } from "../shared/contract/seen-status.js";
import { errorMessage, isWaitError, UsageError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import { sleep } from "../shared/core/sleep.js";
import { MAX_IDS_PER_CHECK } from "../shared/defender/action-batches.js";
import type { ActionPage, DefenderClient } from "../shared/defender/defender-client.js";

/**
 * Every action matching an OData `$filter`, following `@odata.nextLink`, through the shared
 * limiter (the list endpoint's budget). Stops with a UsageError past `max` matches.
 */
export async function resolveFilter(
  client: Pick<DefenderClient, "listActions">,
  tenantId: string,
  filter: string,
  options: { max: number; pageSize?: number; onWait?: (ms: number) => void },
): Promise<MachineAction[]> {
  const actions: MachineAction[] = [];
  let nextLink: string | undefined;
  do {
    let page: ActionPage;
    try {
      page = await client.listActions(
        tenantId,
        { filter, top: options.pageSize, nextLink },
        { campaign: true },
      );
    } catch (err) {
      if (!isWaitError(err)) throw err;
      options.onWait?.(err.waitMs);
      await sleep(err.waitMs);
      continue;
    }
    actions.push(...page.actions);
    if (cancellable(actions).length > options.max)
      throw new UsageError(
        `The filter matches more than --max ${options.max} actions that can be cancelled; narrow it, or raise --max if you mean it. Nothing was enqueued.`,
      );
    nextLink = page.nextLink;
  } while (nextLink);
  return actions;
}

/** How many ids of a file a dry run looks up: about 13 list calls of the budget, not one per id. */
export const DRY_RUN_LOOKUP = 500;

/**
 * The current state of the given actions, through checkActions (`$filter=id in (...)` in checks
 * of up to 40 ids, on the list endpoint's budget, waiting for it); ids Defender does not know are
 * simply absent from the answer.
 */
export async function lookupActions(
  client: Pick<DefenderClient, "checkActions">,
  tenantId: string,
  ids: string[],
): Promise<MachineAction[]> {
  const found: MachineAction[] = [];
  // One check at a time, so a budget wait repeats only the check it stopped.
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_CHECK) {
    const batch = ids.slice(i, i + MAX_IDS_PER_CHECK);
    for (;;) {
      try {
        found.push(...(await client.checkActions(tenantId, batch, { campaign: true })).values());
        break;
      } catch (err) {
        if (!isWaitError(err)) throw err;
        await sleep(err.waitMs);
      }
    }
  }
  return found;
}

/**
 * What a campaign sees of its ids just before it adds their jobs: each listed action's status,
 * stamped when its check answered, so a job can tell whether it is still fresh. Ids Defender did
 * not list get no entry (their job checks them itself: absent from a list is not yet a 404).
 */
export async function lookUpSeen(
  client: Pick<DefenderClient, "checkActions">,
  tenantId: string,
  ids: string[],
  now: () => number = Date.now,
): Promise<Map<string, SeenStatus>> {
  const seen = new Map<string, SeenStatus>();
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_CHECK) {
    const found = await lookupActions(client, tenantId, ids.slice(i, i + MAX_IDS_PER_CHECK));
    for (const [id, status] of seenOf(found, now())) seen.set(id, status);
  }
  return seen;
}

/**
 * How a campaign sees its chunks: a filter's answer as it came (no call), else a lookup when
 * there is a client. A lookup that fails is logged once and not tried again: the jobs then carry
 * nothing and their workers check, as for jobs of any other producer.
 */
export function campaignLook(source: {
  listed?: readonly MachineAction[];
  listedAt: number;
  client?: Pick<DefenderClient, "checkActions">;
  tenantId: string;
  logger?: Logger;
}): ((ids: string[]) => Promise<ReadonlyMap<string, SeenStatus>>) | undefined {
  if (source.listed) {
    const seen = seenOf(source.listed, source.listedAt);
    return async () => seen;
  }
  const { client, tenantId } = source;
  if (!client) return undefined;
  let failed = false;
  return async (ids) => {
    if (failed) return new Map();
    try {
      return await lookUpSeen(client, tenantId, ids);
    } catch (err) {
      failed = true;
      source.logger?.warn(
        { tenantId, err: errorMessage(err) },
        "campaign lookups failed; its workers check each action",
      );
      return new Map();
    }
  };
}

/** Actions as seen at `at`, by lower-case id; a status the job schema would refuse is left out. */
export function seenOf(actions: readonly MachineAction[], at: number): Map<string, SeenStatus> {
  const seen = new Map<string, SeenStatus>();
  for (const action of actions) {
    const parsed = seenSchema.safeParse({ status: action.status, at });
    if (parsed.success) seen.set(String(action.id).toLowerCase(), parsed.data);
  }
  return seen;
}

/** What a dry run or a confirmation shows: counts by status and by type. */
export function summarize(actions: MachineAction[]): {
  byStatus: Record<string, number>;
  byType: Record<string, number>;
} {
  const byStatus: Record<string, number> = {};
  const byType: Record<string, number> = {};
  for (const a of actions) {
    byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    const type = String(a.type ?? "unknown");
    byType[type] = (byType[type] ?? 0) + 1;
  }
  return { byStatus, byType };
}

/**
 * A dry run's counts: by status and type of the actions looked up, ids Defender did not list
 * counted as "(not found)" (a filter lists only what exists). Undefined when nothing was looked up.
 */
export function dryRunSummary(run: {
  source: string;
  looked?: MachineAction[];
  lookedUp: number;
}): ReturnType<typeof summarize> | undefined {
  if (!run.looked) return undefined;
  const summary = summarize(run.looked);
  const unknown = run.source.startsWith("filter") ? 0 : run.lookedUp - run.looked.length;
  if (unknown > 0) summary.byStatus["(not found)"] = unknown;
  return summary;
}

export function cancellable(actions: MachineAction[]): string[] {
  return actions.filter((a) => !isTerminal(a.status)).map((a) => a.id.toLowerCase());
}
