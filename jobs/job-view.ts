import type { Queue } from "bullmq";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { isGuid } from "../shared/contract/guid.js";
import { resultOf } from "./results-reader.js";

/** A cancel job's state as a poller sees it: BullMQ's waiting and prioritized are both `waiting`. */
export type JobState = "waiting" | "delayed" | "active" | "finished";

export interface JobView {
  jobId: string;
  /** The tenant the job acts on (its data's, else the default); null when neither names one. */
  tenantId: string | null;
  state: JobState;
  /** Present once finished. */
  result?: CancelResult;
}

const STATES: Record<string, JobState> = {
  waiting: "waiting",
  prioritized: "waiting",
  "waiting-children": "waiting",
  delayed: "delayed",
  active: "active",
  completed: "finished",
  failed: "finished",
};

/** The job, whatever producer added it; undefined when unknown (or removed after RESULT_RETENTION). */
export async function viewJob(
  queue: Queue,
  jobId: string,
  defaultTenantId: string | undefined,
): Promise<JobView | undefined> {
  const job = await queue.getJob(jobId);
  if (!job) return undefined;
  const state = STATES[await job.getState()];
  if (!state) return undefined;
  // Job data is untrusted (any producer may add jobs): only a GUID counts as a tenant.
  const named = (job.data as { tenantId?: unknown } | undefined)?.tenantId;
  const tenantId = typeof named === "string" && isGuid(named) ? named.toLowerCase() : defaultTenantId;
  const result = state === "finished" ? resultOf(job) : undefined;
  return { jobId, tenantId: tenantId ?? null, state, ...(result ? { result } : {}) };
}
