/**
 * The library other services import: a Producer to enqueue cancels, run campaigns and read results
 * (what the CLI uses), the building blocks under it, and the results subscriber.
 */

export { type Config, parseConfig, readEnvironment } from "../shared/config/config.js";
export { type CancelJob, type CancelRequest, parseCancelJob } from "../shared/contract/cancel-job.js";
export {
  type CancelResult,
  type ErrorCode,
  OUTCOMES,
  type Outcome,
} from "../shared/contract/cancel-result.js";
export type { AuditEntry, AuditRecord, AuditSink, AuditWho } from "../shared/redis/audit-log.js";
export type { DeliveryCounts } from "../shared/redis/callback-store.js";
export { type CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
export { connectRedis } from "../shared/redis/connection.js";
export { keyPrefix, openQueue } from "../shared/redis/queues.js";
export { type CampaignRequest, type CampaignStart, startCampaign } from "./campaign.js";
export type { CampaignOrder, CampaignSource, ConfirmCampaign, DryRun } from "./campaign-order.js";
export { type ProgressSample, waitForCampaign } from "./campaign-progress.js";
export { type Enqueued, type EnqueueOptions, enqueueCancels } from "./enqueue.js";
export { parseIds } from "./ids-file.js";
export type { JobState, JobView } from "./job-view.js";
export { type CampaignStartOptions, Producer, type ProducerOptions } from "./producer.js";
export {
  type BudgetStatus,
  type ProducerStatus,
  RESULTS_BACKLOG_WARNING,
  type StatusWarning,
} from "./producer-status.js";
export { RecentIds } from "./recent-ids.js";
export {
  FOLLOW_LOOKBACK_MS,
  followResults,
  type ReadOptions,
  readCampaignPage,
  readResults,
  streamResults,
} from "./results-reader.js";
export { type SubscribeOptions, type Subscription, subscribeResults } from "./subscriber.js";
export { withProducer } from "./with-producer.js";
