import { Command } from "commander";
import { startIntake } from "../intake/serve.js";
import { parseConfig, parseIntakeConfig, readEnvironment } from "../shared/config/config.js";
import { createLogger } from "../shared/core/logger.js";

export function serveCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("serve")
    .description(
      "Run the HTTP intake for playbooks (INTAKE_PORT) until SIGINT or SIGTERM; then finish the requests in hand.",
    )
    .action(async () => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      const intake = parseIntakeConfig(environment);
      const logger = createLogger(config.logLevel);
      const running = await startIntake(config, intake, logger);
      await new Promise<void>((resolve) => {
        const onSignal = (signal: string) => {
          logger.info({ signal }, "signal received");
          running.close().then(resolve, resolve);
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
      });
      process.exit(0);
    });
}
