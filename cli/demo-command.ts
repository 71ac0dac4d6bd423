import { Command } from "commander";
import { runDemo } from "./demo.js";
import { integerOption } from "./options.js";

export function demoCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("demo")
    .description(
      "A self-contained run on the bundled simulator: no Azure account, no credentials, no internet.",
    )
    .option("--actions <n>", "actions in the demo campaign", "300")
    .option("--workers <n>", "worker processes", "2")
    .action(async (opts: { actions: string; workers: string }) => {
      process.exitCode = await runDemo({
        env,
        actions: integerOption("--actions", opts.actions, 10, 5000),
        workers: integerOption("--workers", opts.workers, 1, 8),
        out: process.stdout,
      });
    });
}
