import type { Worker } from "bullmq";
import type { Config, WorkerCredentials } from "../shared/config.js";
import { DefenderClient } from "../shared/defender-client.js";
import type { Logger } from "../shared/logger.js";
import { keyPrefix } from "../shared/queues.js";
import { RateLimiter } from "../shared/rate-limiter.js";
import { connectRedis, evictionPolicy } from "../shared/redis.js";
import { TokenProvider } from "../shared/token-provider.js";
import { createCancelWorker } from "./cancel-worker.js";
import { ResultPublisher } from "./result-publisher.js";

export interface RunningWorker {
  worker: Worker;
  tokens: TokenProvider;
  limiter: RateLimiter;
  /** Stops taking jobs, lets the ones in hand finish, puts back (delayed) what is left after the timeout. */
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  config: Config;
  credentials: WorkerCredentials;
  logger: Logger;
}

/** Everything a worker process runs, built from the parsed config. */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, credentials, logger } = options;
  const connection = await connectRedis(config.redisUrl, { blocking: true });
  const policy = await evictionPolicy(connection);
  if (policy && policy !== "noeviction") {
    logger.warn(
      { maxmemoryPolicy: policy },
      `Redis maxmemory-policy is ${policy}, not noeviction: under memory pressure Redis may evict queued jobs, which would vanish. Set maxmemory-policy noeviction.`,
    );
  }
  const tokens = new TokenProvider({
    credentials,
    authorityHost: config.authorityHost,
    scope: config.tokenScope,
    timeoutMs: config.httpTimeoutMs,
  });
  const limiter = new RateLimiter(connection, {
    prefix: keyPrefix(config),
    windows: config.rateLimits,
    campaignShare: config.campaignBudgetShare,
  });
  const api = new DefenderClient({
    baseUrl: config.apiBaseUrl,
    timeoutMs: config.httpTimeoutMs,
    tokens,
    budget: limiter,
    logger,
  });
  const publisher = new ResultPublisher(connection, config);
  const worker = createCancelWorker({
    config,
    tenantId: credentials.tenantId,
    connection,
    api,
    publisher,
    logger,
  });
  await worker.waitUntilReady();
  logger.info(
    { queue: config.cancelQueue, concurrency: config.workerConcurrency, tenantId: credentials.tenantId },
    "worker started",
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ timeoutMs: config.shutdownTimeoutMs }, "worker stopping");
      const closed = worker.close();
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, true).unref()),
      ]);
      if (timedOut) {
        // Abort what is still running: the processor answers an abort by delaying its job, never by losing it.
        logger.warn("shutdown timeout reached: putting in-flight jobs back");
        worker.cancelAllJobs("shutdown");
        await closed;
      }
      await publisher.close();
      connection.disconnect();
      logger.info("worker stopped");
    })();
    return stopping;
  };
  return { worker, tokens, limiter, stop };
}
