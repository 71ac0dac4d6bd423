/**
 * A subscribing service: acts on every result published to its own results queue (list it in
 * RESULTS_QUEUE, e.g. RESULTS_QUEUE=mde-cancel-results,ticketing). Stops cleanly on Ctrl-C.
 *
 *   RESULTS_QUEUE=mde-cancel-results,ticketing npx tsx examples/subscriber-service.ts ticketing
 */
import { connectRedis, parseConfig, readEnvironment, subscribeResults } from "../jobs/index.js";

const config = parseConfig(readEnvironment(process.env, process.cwd()));
const connection = await connectRedis(config.redisUrl, { blocking: true });
const queue = process.argv[2] ?? config.resultsQueues[0];

const subscription = await subscribeResults(
  async (result) => {
    // Delivery is at least once; results are deduplicated by jobId, so this runs once per job.
    console.log(`${result.finishedAt} ${result.outcome} ${result.machineActionId} (job ${result.jobId})`);
  },
  { connection, config, queue, concurrency: 5 },
);
console.log(`subscribed to ${queue}; Ctrl-C stops`);

process.once("SIGINT", async () => {
  await subscription.close();
  connection.disconnect();
});
