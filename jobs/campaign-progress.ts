import { OperationalError } from "../shared/core/errors.js";
import { sleep } from "../shared/core/sleep.js";
import type { CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import { type BudgetHistory, type CampaignBudget, type CampaignLoad, campaignEtaMs } from "./campaign-eta.js";

/**
 * What a campaign's record says it has left: the actions its state check saw terminal and that have
 * not finished yet cost nothing (their jobs publish `already_terminal` with no call); every other job
 * left, a cancel. Without a noted check (`seenTerminal`), every job left counts as a cancel.
 */
export function loadOf(record: CampaignRecord): CampaignLoad {
  const left = Math.max(0, record.total - record.done);
  const seenLeft = (record.seenTerminal ?? 0) - record.counts.already_terminal;
  const terminalSeen = Math.min(left, Math.max(0, seenLeft));
  return { terminalSeen, toCancel: left - terminalSeen };
}

export interface ProgressSample {
  record: CampaignRecord;
  elapsedMs: number;
  perMinute: number;
  /**
   * Time left by the budget arithmetic (campaign-eta.ts), assuming workers keep up with the budget;
   * undefined when neither a budget nor a pace was given.
   */
  etaMs: number | undefined;
}

/**
 * Polls the campaign's record until every action has its outcome, reporting each sample.
 * Stops early (returning undefined) when `signal` aborts: the campaign itself runs on.
 */
export async function waitForCampaign(
  store: CampaignStore,
  campaignId: string,
  options: {
    /** The budget of the campaign's tenant. */
    budget?: CampaignBudget;
    /** The campaign calls already in the tenant's windows (default none: an ETA as from an idle budget). */
    history?: (record: CampaignRecord) => Promise<BudgetHistory>;
    intervalMs?: number;
    signal?: AbortSignal;
    onSample?: (s: ProgressSample) => void;
  },
): Promise<CampaignRecord | undefined> {
  const started = Date.now();
  const first = await store.get(campaignId);
  const baseline = first?.done ?? 0;
  for (;;) {
    const record = await store.get(campaignId);
    if (!record)
      throw new OperationalError(`campaign ${campaignId} has no record (expired, or never created)`);
    const elapsedMs = Date.now() - started;
    const observedPerMs = elapsedMs > 0 ? (record.done - baseline) / elapsedMs : 0;
    // The observed rate is shown, not extrapolated: a budget-bound campaign bursts, then waits.
    const history = record.done < record.total ? await options.history?.(record).catch(() => undefined) : {};
    options.onSample?.({
      record,
      elapsedMs,
      perMinute: observedPerMs * 60_000,
      etaMs: etaOf(record, options, history),
    });
    if (record.done >= record.total) return record;
    if (options.signal?.aborted) return undefined;
    await sleep(options.intervalMs ?? 1_000, options.signal);
    if (options.signal?.aborted) return undefined;
  }
}

function etaOf(
  record: CampaignRecord,
  options: { budget?: CampaignBudget },
  history: BudgetHistory | undefined,
): number | undefined {
  if (options.budget) return campaignEtaMs(loadOf(record), options.budget, history);
  // Without the tenant's budget there is no honest ETA, except for a campaign that is done.
  return record.total - record.done <= 0 ? 0 : undefined;
}
