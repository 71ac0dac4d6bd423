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
    .option(
      "--tenants <n>",
      "tenants on the simulator: tenant-1 runs the campaign, each other one an urgent cancel and a small campaign meanwhile",
      "1",
    )
    .action(async (opts: { actions: string; workers: string; tenants: string }) => {
      process.exitCode = await runDemo({
        env,
        actions: integerOption("--actions", opts.actions, 10, 5000),
        workers: integerOption("--workers", opts.workers, 1, 8),
        tenants: integerOption("--tenants", opts.tenants, 1, 20),
        out: process.stdout,
      });
    });
}
