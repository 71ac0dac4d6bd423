/** The library other services import: enqueue cancels, run campaigns, read and subscribe to results. */

export { type Config, parseConfig, readEnvironment } from "../shared/config/config.js";
export { type CancelJob, type CancelRequest, parseCancelJob } from "../shared/contract/cancel-job.js";
export {
  type CancelResult,
  type ErrorCode,
  OUTCOMES,
  type Outcome,
} from "../shared/contract/cancel-result.js";
export { type CampaignRecord, CampaignStore } from "../shared/redis/campaign-store.js";
export { connectRedis } from "../shared/redis/connection.js";
export { keyPrefix, openQueue } from "../shared/redis/queues.js";
export { type CampaignRequest, type CampaignStart, startCampaign } from "./campaign.js";
export { waitForCampaign } from "./campaign-progress.js";
export { type Enqueued, type EnqueueOptions, enqueueCancels } from "./enqueue.js";
export { parseIds } from "./ids-file.js";
export { followResults, readResults } from "./results-reader.js";
export { type SubscribeOptions, type Subscription, subscribeResults } from "./subscriber.js";
