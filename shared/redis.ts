import { Redis } from "ioredis";
import { OperationalError } from "./errors.js";

/** How long any command may wait for Redis before it gives up (the contract says 10 s). */
export const REDIS_CONNECT_TIMEOUT_MS = 10_000;

/** The URL without its password, for messages. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

/**
 * Opens a connection and waits until Redis answers PING, or fails within `timeoutMs` with an
 * OperationalError. Workers (`blocking`) then reconnect forever, as BullMQ requires
 * (maxRetriesPerRequest null); producers fail fast instead of queueing commands offline.
 */
export async function connectRedis(
  url: string,
  options: { blocking: boolean; timeoutMs?: number } = { blocking: false },
): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: Math.min(timeoutMs, 5_000),
    maxRetriesPerRequest: options.blocking ? null : 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on("error", () => {
    // Reported through connect() below and through failing commands; ioredis would otherwise print it.
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    const reason = err instanceof Error ? err.message : String(err);
    throw new OperationalError(
      `Redis at ${describeRedisUrl(url)} did not answer (${reason}); start Redis or set REDIS_URL.`,
    );
  } finally {
    clearTimeout(timer);
  }
  if (!options.blocking) {
    // After a successful start, a producer must still not hang: commands fail if Redis goes away.
    redis.options.enableOfflineQueue = false;
  }
  return redis;
}

/** Warns when Redis may evict keys: queued jobs could vanish without a trace. */
export async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
    return reply[1];
  } catch {
    return undefined; // managed Redis services often disable CONFIG
  }
}
