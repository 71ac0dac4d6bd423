import { Command } from "commander";
import { followResults, readResults } from "../jobs/results-reader.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import type { CancelResult } from "../shared/contract/cancel-result.js";
import { connectRedis } from "../shared/redis/connection.js";
import { openQueue } from "../shared/redis/queues.js";

export function resultsCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("results")
    .description("Print the results kept for RESULT_RETENTION, without consuming any results queue.")
    .option("--follow", "keep printing new results as jobs finish (Ctrl-C stops)")
    .option("--campaign <id>", "only the results of this campaign")
    .option("--json", "print JSON Lines")
    .action(async (opts: { follow?: boolean; campaign?: string; json?: boolean }) => {
      const config = parseConfig(readEnvironment(env, process.cwd()));
      const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
      const queue = openQueue(config.cancelQueue, redis, config);
      const print = (r: CancelResult) =>
        process.stdout.write(`${opts.json ? JSON.stringify(r) : formatResult(r)}\n`);
      try {
        for (const result of await readResults(queue, { campaignId: opts.campaign })) print(result);
        if (opts.follow) {
          const stop = new AbortController();
          process.once("SIGINT", () => stop.abort());
          process.once("SIGTERM", () => stop.abort());
          await followResults(queue, print, { campaignId: opts.campaign, signal: stop.signal });
        }
      } finally {
        await queue.close();
        redis.disconnect();
      }
    });
}

export function formatResult(r: CancelResult): string {
  const detail = r.error ? `${r.error.code}: ${r.error.message}` : (r.status ?? "-");
  return [r.finishedAt, r.outcome.padEnd(16), r.machineActionId ?? "-", detail, `job ${r.jobId}`].join("  ");
}
