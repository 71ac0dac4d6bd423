import { Command } from "commander";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { requireWorkerCredentials } from "../shared/config/credentials.js";
import { createLogger } from "../shared/core/logger.js";
import { startWorker } from "../worker/run-worker.js";

export function workerCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("worker")
    .description("Run a worker until SIGINT or SIGTERM; then finish or put back the jobs in hand.")
    .action(async () => {
      const config = parseConfig(readEnvironment(env, process.cwd()));
      const credentials = requireWorkerCredentials(config);
      const logger = createLogger(config.logLevel);
      const running = await startWorker({ config, credentials, logger });
      await new Promise<void>((resolve) => {
        const onSignal = (signal: string) => {
          logger.info({ signal }, "signal received");
          running.stop().then(resolve, resolve);
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
      });
      // Kept-alive sockets and msal's timers would hold the process open after a clean stop.
      process.exit(0);
    });
}
