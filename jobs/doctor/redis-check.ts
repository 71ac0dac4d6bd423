import type { Config } from "../../shared/config/config.js";
import { errorMessage, UsageError } from "../../shared/core/errors.js";
import {
  connectRedis,
  describeRedisUrl,
  evictionPolicy,
  type RedisConnection,
} from "../../shared/redis/connection.js";
import type { RedisReport } from "./doctor-report.js";

/**
 * Redis answers PING (connectRedis waits for it, 10 s at most) and will not evict: a policy other
 * than noeviction may drop queued jobs under memory pressure. The connection is returned open for
 * the limiter; a usage error (a Cluster without a hash tag in QUEUE_PREFIX) still stops the command.
 */
export async function checkRedis(config: Config): Promise<{ report: RedisReport; redis?: RedisConnection }> {
  const url = describeRedisUrl(config.redisUrl);
  let redis: RedisConnection;
  try {
    redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    return { report: { status: "failed", summary: "no answer", fix: errorMessage(err), url } };
  }
  const policy = await evictionPolicy(redis);
  if (policy === "noeviction")
    return {
      report: { status: "ok", summary: "ok, maxmemory-policy noeviction", url, maxmemoryPolicy: policy },
      redis,
    };
  if (policy === undefined)
    return {
      report: {
        status: "ok",
        summary: "ok, maxmemory-policy unreadable (CONFIG refused)",
        fix: "Redis refuses CONFIG GET, as managed services often do: check in its settings that maxmemory-policy is noeviction",
        url,
      },
      redis,
    };
  return {
    report: {
      status: "failed",
      summary: `maxmemory-policy ${policy}`,
      fix: `Redis's maxmemory-policy is ${policy}: under memory pressure it may evict queued jobs, which would vanish; set maxmemory-policy noeviction (redis.conf, or CONFIG SET)`,
      url,
      maxmemoryPolicy: policy,
    },
    redis,
  };
}
