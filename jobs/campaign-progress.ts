import type { RateWindow } from "../shared/config/durations.js";
import { OperationalError } from "../shared/core/errors.js";
import { sleep } from "../shared/core/sleep.js";
import type { CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
import { campaignCap } from "../shared/redis/rate-limiter.js";

/**
 * Jobs per millisecond a campaign can sustain under the budget: every job spends one GET and at
 * most one cancel, each endpoint with its own budget, so the tightest campaign window sets the pace.
 */
export function budgetJobsPerMs(windows: readonly RateWindow[], campaignShare: number): number {
  return Math.min(...windows.map((w) => campaignCap(w.limit, campaignShare) / w.windowMs));
}

/**
 * Time left: the remaining jobs at the observed rate, but never faster than the budget allows
 * (a campaign's first minute bursts; its next ten hours do not).
 */
export function etaMs(remaining: number, observedPerMs: number, budgetPerMs: number): number | undefined {
  if (remaining <= 0) return 0;
  const rate = observedPerMs > 0 ? Math.min(observedPerMs, budgetPerMs) : budgetPerMs;
  return rate > 0 ? remaining / rate : undefined;
}

export interface ProgressSample {
  record: CampaignRecord;
  elapsedMs: number;
  perMinute: number;
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
    budgetPerMs: number;
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
    options.onSample?.({
      record,
      elapsedMs,
      perMinute: observedPerMs * 60_000,
      etaMs: etaMs(record.total - record.done, observedPerMs, options.budgetPerMs),
    });
    if (record.done >= record.total) return record;
    if (options.signal?.aborted) return undefined;
    await sleep(options.intervalMs ?? 1_000, options.signal);
    if (options.signal?.aborted) return undefined;
  }
}
