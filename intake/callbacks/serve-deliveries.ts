import type { Registry } from "prom-client";
import type { Config } from "../../shared/config/config.js";
import type { Logger } from "../../shared/core/logger.js";
import { connectRedis } from "../../shared/redis/connection.js";
import { CallbackMetrics } from "./callback-metrics.js";
import { DeliveryWorker } from "./delivery-worker.js";

/**
 * `serve`'s side of callbacks: a DeliveryWorker on a blocking connection of its own (BullMQ's
 * worker waits on Redis), counting attempts on `registry`. None without INTAKE_WEBHOOK_SECRET:
 * then no callbackUrl is accepted, and nothing could be signed.
 */
export async function startDeliveries(
  config: Config,
  logger: Logger,
  registry: Registry,
): Promise<{ close(): Promise<void> } | undefined> {
  const secret = config.intakeWebhookSecret;
  if (!secret) return undefined;
  const connection = await connectRedis(config.redisUrl, { blocking: true, queuePrefix: config.queuePrefix });
  try {
    const worker = await new DeliveryWorker({
      connection,
      config,
      secret,
      allowedHosts: config.intakeCallbackHosts ?? [],
      logger,
      hooks: new CallbackMetrics(registry),
    }).ready();
    return {
      close: async () => {
        await worker.close();
        connection.disconnect();
      },
    };
  } catch (err) {
    connection.disconnect();
    throw err;
  }
}
