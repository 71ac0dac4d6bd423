import type { CampaignStart } from "../jobs/campaign.js";
import type { CampaignOrder, DryRun } from "../jobs/campaign-order.js";
import type { Enqueued } from "../jobs/enqueue.js";
import type { JobState, JobView } from "../jobs/job-view.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import type { CampaignRecord } from "../shared/redis/campaign-store.js";

/**
 * What the HTTP routes need from the producer side, and nothing more: the port the intake is
 * written against. `ProducerBackend` implements it on the library's Producer, turning what a
 * caller can fix into problems that name the field; tests may put anything behind it.
 */
export interface IntakeBackend {
  /** Adds the cancel job, or reports the job the action already has (deduplication). */
  enqueue(order: CancelOrder): Promise<CancelAccepted>;
  /** The job, whatever producer added it; undefined when unknown (or past RESULT_RETENTION). */
  cancelJob(jobId: string): Promise<JobView | undefined>;
  /** Records the campaign and adds its jobs; answers once they are added. */
  startCampaign(order: CampaignOrder): Promise<CampaignStart>;
  /** What `startCampaign` would enqueue; enqueues nothing. */
  dryRun(order: CampaignOrder): Promise<DryRun>;
  campaign(campaignId: string): Promise<CampaignRecord | undefined>;
  /** One page of the campaign's results; `cursor` undefined for the first, `next` null after the last. */
  campaignResults(campaignId: string, page: { cursor?: string; limit: number }): Promise<ResultsPage>;
}

export interface CancelOrder {
  machineActionId: string;
  comment: string;
  tenantId: string;
  requestedBy: string;
  correlationId?: string;
  priority?: number;
}

/** What enqueueing answered (added, or the job in flight, promoted when urgent) and that job's state. */
export type CancelAccepted = Enqueued & { state: JobState };

export interface ResultsPage {
  results: CancelResult[];
  next: string | null;
}
