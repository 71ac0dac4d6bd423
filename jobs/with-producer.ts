import type { Config } from "../shared/config/config.js";
import { redisFailure } from "../shared/redis/redis-failure.js";
import { Producer, type ProducerOptions } from "./producer.js";

/**
 * Opens a Producer for one piece of work (a CLI command, a script) and closes it whatever happens.
 * A Redis call that failed (no answer within REDIS_COMMAND_TIMEOUT_MS, a lost connection, an error
 * reply) is reported as an OperationalError naming Redis, not as ioredis's bare message.
 */
export async function withProducer<T>(
  config: Config,
  use: (producer: Producer) => Promise<T>,
  options?: ProducerOptions,
): Promise<T> {
  const producer = await Producer.open(config, options);
  try {
    return await use(producer);
  } catch (err) {
    throw redisFailure(err, config.redisUrl);
  } finally {
    await producer.close();
  }
}
