import type { CancelResult, MachineAction } from "../shared/contract/cancel-result.js";
import type { CampaignRecord } from "../shared/redis/campaign-store.js";

/**
 * What the HTTP routes need from the producer side, and nothing more: the port the intake is
 * written against. `QueueBackend` implements it on the jobs/ building blocks; the library's
 * Producer can take its place behind the same methods.
 */
export interface IntakeBackend {
  /** Adds the cancel job, or reports the job the action already has (deduplication). */
  enqueue(request: CancelOrder): Promise<CancelAccepted>;
  /** The job, whatever producer added it; undefined when unknown (or past RESULT_RETENTION). */
  cancelJob(jobId: string): Promise<CancelJobView | undefined>;
  /** Records the campaign and adds its jobs; answers once they are added. */
  startCampaign(order: CampaignOrder): Promise<CampaignStarted>;
  /** What `startCampaign` would enqueue; enqueues nothing. */
  dryRun(order: CampaignOrder): Promise<CampaignDryRun>;
  campaign(campaignId: string): Promise<CampaignRecord | undefined>;
  /** One page of the campaign's results; `cursor` undefined for the first, `next` null after the last. */
  campaignResults(campaignId: string, cursor: string | undefined, limit: number): Promise<ResultsPage>;
}

/** HTTP states: BullMQ's waiting and prioritized are both `waiting`; completed and failed are `finished`. */
export type JobState = "waiting" | "delayed" | "active" | "finished";

export interface CancelOrder {
  machineActionId: string;
  comment: string;
  tenantId: string;
  requestedBy: string;
  correlationId?: string;
  priority?: number;
}

export interface CancelAccepted {
  jobId: string;
  machineActionId: string;
  tenantId: string;
  state: JobState;
  /** false: the action already had a job waiting, delayed or active; that job is reported. */
  added: boolean;
  /** The existing job was waiting with a campaign priority and this urgent request promoted it. */
  promoted: boolean;
}

export interface CancelJobView {
  jobId: string;
  /** The tenant the job acts on; null when its data names none and there is no default. */
  tenantId: string | null;
  state: JobState;
  /** Present once finished. */
  result?: CancelResult;
  /** For a delayed job: when it is due (ms since epoch). */
  dueAt?: number;
}

export interface CampaignOrder {
  tenantId: string;
  /** Exactly one of `ids` and `filter`. */
  ids?: string[];
  filter?: string;
  /** A filter matching more cancellable actions than this is refused. */
  max: number;
  comment: string;
  campaignId?: string;
  priority?: number;
  requestedBy: string;
}

export interface CampaignStarted {
  campaignId: string;
  added: number;
  /** Actions that already had a job in flight, left to it. */
  alreadyQueued: string[];
}

export interface CampaignDryRun {
  source: string;
  ids: string[];
  /** Current state of the first `lookedUp` actions, when it could be known. */
  looked?: MachineAction[];
  lookedUp: number;
}

export interface ResultsPage {
  results: CancelResult[];
  next: string | null;
}
