/** The HTTP intake's own limits (the contract's second wave). */

/** Bodies over this are answered 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Ids one campaign request may carry; also the largest `max` of a filter. */
export const MAX_CAMPAIGN_IDS = 10_000;
/** Default `max` of a filter, as the CLI's `--max`. */
export const DEFAULT_FILTER_MAX = 1000;
/** Retry-After while a cancel job is not finished: one cancel takes seconds. */
export const CANCEL_POLL_SECONDS = 5;
/** Retry-After while a campaign drains: it runs under the budget for minutes to hours. */
export const CAMPAIGN_POLL_SECONDS = 30;
