import { Command } from "commander";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { loadTenants } from "../shared/config/tenants.js";
import { errorMessage } from "../shared/core/errors.js";
import { createLogger, type Logger } from "../shared/core/logger.js";
import { type RunningWorker, startWorker } from "../worker/run-worker.js";
import { reloadSignal } from "./reload-signal.js";
import { shutdownSignal } from "./shutdown-signal.js";

export function workerCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("worker")
    .description(
      "Run a worker until SIGINT or SIGTERM; then finish or put back the jobs in hand. SIGHUP reads MDE_TENANTS_FILE again.",
    )
    .action(async () => {
      // Before the first await: a signal while the worker starts is kept, and handled once it runs.
      const shutdown = shutdownSignal();
      const reload = reloadSignal();
      try {
        // The environment is read again on each load: a secret rotated in .env is picked up by SIGHUP.
        const load = () => {
          const environment = readEnvironment(env, process.cwd());
          return loadTenants({ config: parseConfig(environment), env: environment });
        };
        const config = parseConfig(readEnvironment(env, process.cwd()));
        const tenants = load();
        const logger = createLogger(config.logLevel);
        const running = await startWorker({ config, tenants, logger });
        reload.handle(() => {
          logger.info("SIGHUP received: reading the tenants again");
          running.reloadTenants(load);
        });
        logger.info({ signal: await shutdown.received }, "signal received");
        // Kept-alive sockets and msal's timers would hold the process open after a stop.
        process.exit(await stopWorker(running, logger));
      } finally {
        reload.release();
        shutdown.release();
      }
    });
}

/** Stops the worker; the exit code says whether it stopped cleanly (0) or not (1, logged). */
export async function stopWorker(running: Pick<RunningWorker, "stop">, logger: Logger): Promise<number> {
  try {
    await running.stop();
    return 0;
  } catch (err) {
    logger.error({ err: errorMessage(err) }, "worker did not stop cleanly");
    return 1;
  }
}
