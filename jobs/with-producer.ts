import type { Config } from "../shared/config/config.js";
import { Producer, type ProducerOptions } from "./producer.js";

/** Opens a Producer for one piece of work (a CLI command, a script) and closes it whatever happens. */
export async function withProducer<T>(
  config: Config,
  use: (producer: Producer) => Promise<T>,
  options?: ProducerOptions,
): Promise<T> {
  const producer = await Producer.open(config, options);
  try {
    return await use(producer);
  } finally {
    await producer.close();
  }
}
