/**
 * Batched state checks: one `GET /api/machineactions?$filter=id in ('…','…')` looks at many
 * actions. Microsoft documents `$filter` on `id` but no limit on the number of ids; the limit that
 * bites is the length of the URL (a front door answers 414 past about 2,000 characters), so
 * batches are cut by the length of the absolute, percent-encoded URL, not by count alone.
 */

import { isGuid } from "../contract/guid.js";
import { BadRequestError } from "../core/errors.js";

/** Ids per check: 40 GUIDs make about 1,850 characters of URL on Defender's own hosts. */
export const MAX_IDS_PER_CHECK = 40;
/** The longest absolute URL a check may send (the contract's "URL length"). */
export const MAX_CHECK_URL_LENGTH = 2048;

export interface BatchLimits {
  maxIds: number;
  maxUrlLength: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = {
  maxIds: MAX_IDS_PER_CHECK,
  maxUrlLength: MAX_CHECK_URL_LENGTH,
};

/** The path (with its query) checking `ids`; `$top` asks for all of them on one page. */
export function checkPath(ids: readonly string[]): string {
  const params = new URLSearchParams();
  // Ids are validated GUIDs (checkIds): nothing here can break out of the quotes.
  params.set("$filter", `id in (${ids.map((id) => `'${id}'`).join(",")})`);
  params.set("$top", String(ids.length));
  return `/api/machineactions?${params.toString()}`;
}

/** The absolute URL a request for `path` goes to: axios joins baseURL and url this way, then parses it. */
export function absoluteUrl(baseUrl: string, path: string): string {
  return new URL(`${baseUrl.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`).href;
}

/** The distinct ids, lower-cased; refuses any that is not a GUID before it can reach a URL. */
export function checkIds(ids: readonly string[]): string[] {
  const bad = ids.filter((id) => !isGuid(id));
  if (bad.length > 0)
    throw new BadRequestError(
      `machine action id(s) ${bad
        .slice(0, 3)
        .map((id) => JSON.stringify(id))
        .join(", ")} not GUIDs`,
    );
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

/** How many of `ids`, from the first, one check may carry under `limits` (at least 1, or it throws). */
export function firstBatchSize(baseUrl: string, ids: readonly string[], limits: BatchLimits): number {
  let size = 0;
  while (
    size < ids.length &&
    size < limits.maxIds &&
    absoluteUrl(baseUrl, checkPath(ids.slice(0, size + 1))).length <= limits.maxUrlLength
  )
    size++;
  if (size === 0 && ids.length > 0)
    throw new BadRequestError(
      `a state check of one action needs a URL longer than ${limits.maxUrlLength} characters on ${baseUrl.slice(0, 80)}…; shorten MDE_API_BASE_URL (or the tenant's apiBaseUrl)`,
    );
  return size;
}

/** `ids` cut into consecutive checks, each as large as `limits` allow. */
export function idBatches(
  baseUrl: string,
  ids: readonly string[],
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): string[][] {
  const batches: string[][] = [];
  for (let start = 0; start < ids.length; ) {
    const size = firstBatchSize(baseUrl, ids.slice(start, start + limits.maxIds), limits);
    batches.push(ids.slice(start, start + size));
    start += size;
  }
  return batches;
}
