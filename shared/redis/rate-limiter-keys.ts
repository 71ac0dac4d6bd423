/**
 * The Redis keys of the shared limiter, kept beside the functions that name them so the layout is
 * read in one place. For `base = ${prefix}:rl:${tenantId}:${endpoint}` (all share the prefix, so a
 * hash tag in the prefix keeps them in one Redis Cluster slot):
 *   `${base}:log`              zset of calls (score = answer time, or admission + reservation while
 *                              open; member = "<admission ms>-<seq>")
 *   `${base}:log:campaign`     zset of campaign calls (also present in `:log`)
 *   `${base}:seq`              counter making members unique within one millisecond
 *   `${base}:pause`            set by `pause()` with PX = the pause; its PTTL is the remaining pause
 *   `${base}:ticket:urgent`    zset of wake times promised to refused urgent callers
 *   `${base}:ticket:campaign`  zset of wake times promised to refused campaign callers
 * Every key expires once nothing in it matters any more, so idle tenants leave nothing behind.
 */

import { UsageError } from "../core/errors.js";
import type { Endpoint } from "../defender/endpoints.js";

/** The prefix of one tenant's endpoint's keys. */
export function limiterBase(prefix: string, tenantId: string, endpoint: Endpoint): string {
  if (tenantId.length === 0) throw new UsageError("rate limiter: tenant id must not be empty");
  return `${prefix}:rl:${tenantId}:${endpoint}`;
}

/** The keys of the take script, in its KEYS order; the tickets are those of the caller's class. */
export function takeKeys(base: string, campaign: boolean): string[] {
  const tickets = `${base}:ticket:${campaign ? "campaign" : "urgent"}`;
  return [`${base}:log`, `${base}:log:campaign`, `${base}:seq`, `${base}:pause`, tickets];
}
