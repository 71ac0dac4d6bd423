import type { Job, Queue } from "bullmq";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { gaveUpResult } from "../shared/contract/cancel-result.js";
import { sleep } from "../shared/core/sleep.js";
import type { CampaignStore } from "../shared/redis/campaign-store.js";

/**
 * Results as kept on the finished cancel jobs (for RESULT_RETENTION), read without consuming any
 * results queue: a completed job's return value is its result; a job BullMQ itself failed gets
 * the result the worker published for it, or one built from BullMQ's reason.
 */
export function resultOf(job: Job): CancelResult | undefined {
  if (job.returnvalue && typeof job.returnvalue === "object") return job.returnvalue as CancelResult;
  if (!job.finishedOn || !job.failedReason) return undefined;
  const published = (job.progress as { result?: CancelResult } | undefined)?.result;
  const ref = { jobId: String(job.id), data: job.data, enqueuedAt: job.timestamp };
  return gaveUpResult(ref, job.attemptsMade || 1, job.failedReason, published);
}

export interface ReadOptions {
  campaignId?: string;
  /** Only results finished after this (ms since epoch). */
  since?: number;
  pageSize?: number;
}

/** Every kept result (finished after `since`, when given), oldest first. */
export async function readResults(queue: Queue, options: ReadOptions = {}): Promise<CancelResult[]> {
  const pageSize = options.pageSize ?? 1000;
  const since = options.since ?? Number.NEGATIVE_INFINITY;
  const results: CancelResult[] = [];
  for (const state of ["completed", "failed"] as const) {
    // Newest first (BullMQ orders finished jobs by finish time), so a follower reads only the top.
    for (let start = 0; ; start += pageSize) {
      const jobs = await queue.getJobs([state], start, start + pageSize - 1, false);
      const fresh = jobs.filter((job) => (job.finishedOn ?? 0) > since);
      for (const job of fresh) {
        const result = resultOf(job);
        if (result && (!options.campaignId || result.campaignId === options.campaignId)) results.push(result);
      }
      if (jobs.length < pageSize || fresh.length < jobs.length) break;
    }
  }
  return results.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
}

/**
 * One page of a campaign's results, for a caller that cannot hold them all (an HTTP client): from
 * `cursor` (undefined for the first page) to `next` (null after the last). About `limit` a page; a
 * result may come again on a later page, never be skipped (dedupe on `jobId`).
 */
export async function readCampaignPage(
  queue: Queue,
  store: Pick<CampaignStore, "finishedJobs">,
  campaignId: string,
  options: { cursor?: string; limit: number },
): Promise<{ results: CancelResult[]; next: string | null }> {
  const page = await store.finishedJobs(campaignId, options.cursor ?? "0", options.limit);
  const jobs = await Promise.all(page.jobIds.map((id) => queue.getJob(id)));
  const results = jobs
    .map((job) => (job ? resultOf(job) : undefined))
    .filter((r): r is CancelResult => r !== undefined)
    .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  return { results, next: page.next };
}

/**
 * Streams results as jobs finish, by polling the finished sets (nothing is consumed, so any
 * number of readers can follow). Resolves when `signal` aborts.
 */
export async function followResults(
  queue: Queue,
  onResult: (result: CancelResult) => void,
  options: { campaignId?: string; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const seen = new Set<string>();
  let since = Date.now() - 1;
  while (!options.signal?.aborted) {
    const fresh = await readResults(queue, { campaignId: options.campaignId, since: since - 5_000 });
    for (const result of fresh) {
      if (seen.has(result.jobId)) continue;
      seen.add(result.jobId);
      onResult(result);
    }
    since = Date.now();
    await sleep(options.intervalMs ?? 1_000, options.signal);
  }
}
