import { ErrorCode, type Job, type Queue } from "bullmq";
import { CAMPAIGN_BUDGET_DELAY } from "../shared/redis/queues.js";

/**
 * Makes the job that holds an action urgent, for an urgent enqueue (no priority) that found it:
 * when the job is waiting or delayed with a priority, the priority is removed (the worker then runs
 * it in the urgent budget class: worker/budget-class.ts), and a delay the worker took only for
 * campaign budget (or the campaign's pace, at enqueue) ends at once; a delay for a 429 pause, a 404 re-check or a backoff is kept. Returns
 * whether the job was promoted; an active or finished job is left as it is.
 *
 * Two of BullMQ's own calls, each one atomic Lua script that moves the job only from the set it is
 * found in, so no job is lost or doubled whatever a worker does meanwhile: `changePriority` takes
 * it out of the prioritized set into wait (or, when it is delayed or just became active, only
 * rewrites the priority its next runs read), then `promote` moves it from the delayed set to wait,
 * or answers "not delayed" when its delay ran out first or a worker took it. Between reading why it
 * waits and `promote`, a worker could run it and delay it again for another reason; it would then
 * wake early, find the pause or the budget still there, and be delayed again without a Defender
 * call (a backoff would retry sooner). That window is one round trip; a script of our own doing
 * both would have to copy BullMQ's internal lists and markers, which change between versions.
 */
export async function promoteJob(queue: Queue, jobId: string): Promise<boolean> {
  const job = await queue.getJob(jobId);
  if (!job || !(Number(job.priority) > 0)) return false;
  const state = await job.getState();
  if (state !== "waiting" && state !== "prioritized" && state !== "delayed") return false;
  try {
    await job.changePriority({ priority: 0 });
  } catch (err) {
    if (codeOf(err) === ErrorCode.JobNotExist) return false; // finished and removed meanwhile
    throw err;
  }
  if (state === "delayed" && delayedOnlyForBudget(job)) {
    await job.promote().catch((err: unknown) => {
      if (codeOf(err) !== ErrorCode.JobNotInState) throw err; // no longer delayed: nothing to end
    });
  }
  return true;
}

/**
 * A delay the worker took only for campaign budget (recorded in its progress), or the pace a
 * campaign added its job with (jobs/campaign-pace.ts): a campaign job delayed before it ever ran
 * waits for nothing but its tenant's campaign budget.
 */
export function delayedOnlyForBudget(job: Pick<Job, "progress" | "processedOn" | "data">): boolean {
  const delayedFor = (job.progress as { delayedFor?: unknown } | undefined)?.delayedFor;
  if (delayedFor === CAMPAIGN_BUDGET_DELAY) return true;
  const pacedAtEnqueue = !job.processedOn && typeof job.data?.campaignId === "string";
  return pacedAtEnqueue && delayedFor === undefined;
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | undefined)?.code;
}
