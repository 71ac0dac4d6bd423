import { setTimeout as delay } from "node:timers/promises";

/** Waits `ms`, or less when `signal` aborts (which is then not an error: the caller checks it). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}
