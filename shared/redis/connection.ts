/** Opening Redis: a single node or a Cluster, with the timeouts and retry behaviour every process uses. */

import { Cluster, Redis } from "ioredis";
import { errorMessage, OperationalError, UsageError } from "../core/errors.js";
import { withTimeout } from "../core/with-timeout.js";

/** A single Redis or a Redis Cluster; every caller types its connection with this. */
export type RedisConnection = Redis | Cluster;

/** How long any command may wait for Redis before it gives up (README: every command gives up within 10 s). */
export const REDIS_CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long one Redis call of a producer may go unanswered once connected (a frozen Redis, a cut
 * network): the call fails and the command exits within the README's 15 s. Redis answers our
 * largest call (a page of 1,000 jobs, a Lua script over 1,000 ids) in milliseconds.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 5_000;

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
 * (maxRetriesPerRequest null), and wait as long as their blocking reads need; producers fail fast
 * instead of queueing commands offline, and no call of theirs waits longer than `commandTimeoutMs`.
 */
export async function connectRedis(
  url: string,
  options: { blocking: boolean; timeoutMs?: number; commandTimeoutMs?: number; queuePrefix?: string } = {
    blocking: false,
  },
): Promise<RedisConnection> {
  const timeoutMs = options.timeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
  const nodeOptions = {
    connectTimeout: Math.min(timeoutMs, 5_000),
    maxRetriesPerRequest: options.blocking ? null : 1,
    // Not on a worker's connection: BullMQ's blocking reads there wait on purpose.
    ...(options.blocking ? {} : { commandTimeout: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS }),
  };
  // Typed as either from the start: the callback below may swap it for a cluster client.
  let redis = new Redis(url, {
    ...nodeOptions,
    lazyConnect: true,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  }) as RedisConnection;
  redis.on("error", () => {
    // Reported through connect() below and through failing commands; ioredis would otherwise print it.
  });
  try {
    await withTimeout(
      redis
        .connect()
        .then(() => redis.info("cluster").catch(() => "")) // INFO may be disabled: then not a cluster
        .then(async (info) => {
          // A cluster node answers single-slot commands only: reconnect as a cluster client.
          if (!/^cluster_enabled:1/m.test(info)) return redis.ping();
          redis.disconnect();
          redis = clusterClient(url, nodeOptions);
          await redis.connect();
          return redis.ping();
        }),
      timeoutMs,
      () => new OperationalError(`no answer within ${timeoutMs / 1000} s`),
    );
  } catch (err) {
    redis.disconnect();
    throw new OperationalError(
      `Redis at ${describeRedisUrl(url)} did not answer (${errorMessage(err)}); start Redis or set REDIS_URL.`,
    );
  }
  if (redis instanceof Cluster && options.queuePrefix !== undefined && !hasHashTag(options.queuePrefix)) {
    redis.disconnect();
    throw new UsageError(
      `Redis at ${describeRedisUrl(url)} is a Redis Cluster and QUEUE_PREFIX=${JSON.stringify(options.queuePrefix)} has no hash tag; set QUEUE_PREFIX to a {hash-tag} such as {mde} so each queue's keys share one slot.`,
    );
  }
  if (!options.blocking) {
    // After a successful start, a producer must still not hang: commands fail if Redis goes away.
    redis.options.enableOfflineQueue = false;
  }
  return redis;
}

/** True when Redis Cluster would hash only a `{...}` part of the prefix: one queue, one slot. */
export function hasHashTag(prefix: string): boolean {
  return /\{[^{}]+\}/.test(prefix);
}

/**
 * A cluster client seeded with the URL's node. BullMQ reads `redisOptions.maxRetriesPerRequest`
 * (null for workers), so it is set explicitly, with the URL's credentials and TLS.
 */
function clusterClient(
  url: string,
  nodeOptions: { connectTimeout: number; maxRetriesPerRequest: number | null; commandTimeout?: number },
) {
  const u = new URL(url);
  const tls = u.protocol === "rediss:" ? { servername: u.hostname } : undefined;
  const cluster = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    lazyConnect: true,
    enableOfflineQueue: true,
    clusterRetryStrategy: (times) => Math.min(times * 200, 2_000),
    redisOptions: {
      ...nodeOptions,
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      ...(tls ? { tls } : {}),
    },
  });
  cluster.on("error", () => {
    // As for a single Redis: reported through connect() and failing commands.
  });
  return cluster;
}

/** Warns when Redis may evict keys: queued jobs could vanish without a trace. */
export async function evictionPolicy(redis: RedisConnection): Promise<string | undefined> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
    return reply[1];
  } catch {
    return undefined; // managed Redis services often disable CONFIG
  }
}
