import { Command } from "commander";
import { startIntake } from "../intake/serve.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { errorMessage } from "../shared/core/errors.js";
import { createLogger } from "../shared/core/logger.js";
import { shutdownSignal } from "./shutdown-signal.js";

export function serveCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("serve")
    .description(
      "Run the HTTP intake for playbooks (INTAKE_PORT) until SIGINT or SIGTERM, then finish the requests in hand; SIGHUP reads MDE_TENANTS_FILE again.",
    )
    .action(async () => {
      // Before the first await: a signal while the intake starts is kept, and stops it once it listens.
      const shutdown = shutdownSignal();
      try {
        const environment = readEnvironment(env, process.cwd());
        const config = parseConfig(environment);
        const logger = createLogger(config.logLevel);
        const running = await startIntake({ config, env: environment }, logger);
        const onHangup = () => running.reloadTenants();
        process.on("SIGHUP", onHangup);
        logger.info({ signal: await shutdown.received }, "signal received");
        process.off("SIGHUP", onHangup);
        let code = 0;
        try {
          await running.close();
        } catch (err) {
          logger.error({ err: errorMessage(err) }, "intake did not stop cleanly");
          code = 1;
        }
        // Kept-alive sockets would hold the process open after a stop.
        process.exit(code);
      } finally {
        shutdown.release();
      }
    });
}
