import type { Job, Queue } from "bullmq";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { gaveUpResult } from "../shared/contract/cancel-result.js";
import { sleep } from "../shared/core/sleep.js";
import type { CampaignStore } from "../shared/redis/campaign-store.js";
import { RecentIds } from "./recent-ids.js";

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
  /** Only this tenant's results (its id). */
  tenantId?: string;
  /** Only results finished after this (ms since epoch). */
  since?: number;
  /** At most this many (the newest). */
  limit?: number;
  /** Jobs read per round trip; default 500. */
  pageSize?: number;
}

/** One of BullMQ's finished sets, newest first, a page at a time. */
class FinishedJobs {
  private page: Job[] = [];
  private next = 0;
  private ended = false;

  constructor(
    private readonly queue: Queue,
    private readonly state: "completed" | "failed",
    private readonly pageSize: number,
  ) {}

  async peek(): Promise<Job | undefined> {
    if (this.page.length === 0 && !this.ended) {
      const jobs = await this.queue.getJobs([this.state], this.next, this.next + this.pageSize - 1, false);
      this.next += this.pageSize;
      this.ended = jobs.length < this.pageSize;
      this.page = jobs.filter((job): job is Job => Boolean(job));
    }
    return this.page[0];
  }

  take(): void {
    this.page.shift();
  }

  end(): void {
    this.page = [];
    this.ended = true;
  }
}

/**
 * Every kept result (finished after `since`, of `campaignId`, at most `limit`), newest first, read
 * a page at a time: memory holds two pages, however many the retention keeps. Jobs that finish
 * while it reads push the pages down; what that would show twice (and anything finished after the
 * read began) is skipped, so each result comes once.
 */
export async function* streamResults(queue: Queue, options: ReadOptions = {}): AsyncGenerator<CancelResult> {
  const pageSize = options.pageSize ?? 500;
  const since = options.since ?? Number.NEGATIVE_INFINITY;
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  const sets = [new FinishedJobs(queue, "completed", pageSize), new FinishedJobs(queue, "failed", pageSize)];
  let last = Number.POSITIVE_INFINITY;
  let atLast = new Set<string>();
  while (left > 0) {
    const heads = await Promise.all(sets.map((s) => s.peek()));
    const newest = heads.reduce<number>((best, job, i) => {
      const b = heads[best];
      return job && (!b || (job.finishedOn ?? 0) > (b.finishedOn ?? 0)) ? i : best;
    }, 0);
    const job = heads[newest];
    if (!job) return;
    const set = sets[newest] as FinishedJobs;
    const at = job.finishedOn ?? 0;
    const id = String(job.id);
    if (at <= since) {
      set.end(); // newest first: everything after it in this set is older still
      continue;
    }
    set.take();
    if (at > last || (at === last && atLast.has(id))) continue;
    if (at < last) [last, atLast] = [at, new Set()];
    atLast.add(id);
    const result = resultOf(job);
    if (!result || (options.campaignId && result.campaignId !== options.campaignId)) continue;
    if (options.tenantId && result.tenantId !== options.tenantId) continue;
    left -= 1;
    yield result;
  }
}

/** The kept results (see streamResults), oldest first, in one array. */
export async function readResults(queue: Queue, options: ReadOptions = {}): Promise<CancelResult[]> {
  const results: CancelResult[] = [];
  for await (const result of streamResults(queue, options)) results.push(result);
  return results.reverse();
}

/** How far each read of a follower looks back: results reach the finished sets a little late. */
export const FOLLOW_LOOKBACK_MS = 5_000;
/** Extra time an id is remembered: a result's finishedAt can come a little before its job's finish. */
const FORGET_MARGIN_MS = 60_000;

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
 * Streams results as jobs finish, oldest first, by polling the finished sets (nothing is consumed,
 * so any number of readers can follow). It remembers the ids of the last minute or so, not every
 * id it saw; `seen` may hold the ids a reader printed just before. Resolves when `signal` aborts.
 */
export async function followResults(
  queue: Queue,
  onResult: (result: CancelResult) => void,
  options: {
    campaignId?: string;
    tenantId?: string;
    intervalMs?: number;
    signal?: AbortSignal;
    seen?: RecentIds;
  } = {},
): Promise<void> {
  const seen = options.seen ?? new RecentIds();
  let from = Date.now();
  while (!options.signal?.aborted) {
    const since = from - FOLLOW_LOOKBACK_MS;
    from = Date.now();
    const { campaignId, tenantId } = options;
    for (const result of await readResults(queue, { campaignId, tenantId, since }))
      if (seen.add(result.jobId, Date.parse(result.finishedAt))) onResult(result);
    seen.forgetBefore(since - FORGET_MARGIN_MS);
    await sleep(options.intervalMs ?? 1_000, options.signal);
  }
}
