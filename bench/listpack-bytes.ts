/**
 * Redis bytes per waiting campaign job when the operator raises `hash-max-listpack-value` to 512:
 * a job's hash holds values over Redis's default 64 bytes (its data and options JSON), which moves
 * the whole hash to the larger hashtable encoding. The setting is Redis's, not ours; the bench sets
 * it for the jobs it adds here and puts the old value back.
 */

import { Queue } from "bullmq";
import { startCampaign } from "../jobs/campaign.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import { keyPrefix } from "../shared/redis/queues.js";
import { redis, TENANT, usedMemory } from "./common.js";

/** The value the bench tries (Redis allows up to 4 GB; 512 keeps every field of a job's hash). */
export const LISTPACK_VALUE_BYTES = 512;

/** Bytes per job of a campaign of `n` waiting jobs (used_memory delta), with the setting raised. */
export async function listpackJobBytes(prefix: string, comment: string, n = 10_000): Promise<number> {
  const r = redis();
  const name = "listpack";
  const queue = new Queue(name, { connection: r, prefix });
  const [, before] = (await r.config("GET", "hash-max-listpack-value")) as [string, string];
  try {
    await queue.waitUntilReady();
    await r.config("SET", "hash-max-listpack-value", String(LISTPACK_VALUE_BYTES));
    const store = new CampaignStore(r, keyPrefix({ queuePrefix: prefix, cancelQueue: name }), 3_600_000);
    const ids = Array.from({ length: n }, () => crypto.randomUUID());
    const start = await usedMemory(r);
    await startCampaign(queue, store, { ids, comment, tenantId: TENANT, source: "bench" });
    return ((await usedMemory(r)) - start) / n;
  } finally {
    await r.config("SET", "hash-max-listpack-value", before);
    await queue.obliterate({ force: true });
    await queue.close();
    r.disconnect();
  }
}
