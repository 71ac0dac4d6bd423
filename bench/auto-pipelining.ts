/**
 * Preloaded (`--import`) into a worker process for the A/B tiers only: turns ioredis
 * auto-pipelining on for every connection the process opens, without touching the product's code.
 */
import { Redis } from "ioredis";

(
  Redis as unknown as { defaultOptions: { enableAutoPipelining: boolean } }
).defaultOptions.enableAutoPipelining = true;
