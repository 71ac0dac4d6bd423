/** The library other services import: enqueue cancels, read the contract's shapes. */
export { type Config, parseConfig, readEnvironment } from "../shared/config.js";
export {
  type CancelJob,
  type CancelRequest,
  type CancelResult,
  type ErrorCode,
  OUTCOMES,
  type Outcome,
  parseCancelJob,
} from "../shared/contract.js";
export { openQueue } from "../shared/queues.js";
export { connectRedis } from "../shared/redis.js";
export { type Enqueued, type EnqueueOptions, enqueueCancels } from "./enqueue.js";
