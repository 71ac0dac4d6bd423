#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { errorMessage, OperationalError, UsageError } from "../shared/core/errors.js";
import { apiKeysCommand } from "./api-keys-command.js";
import { auditCommand } from "./audit-command.js";
import { campaignCommand } from "./campaign-command.js";
import { demoCommand } from "./demo-command.js";
import { doctorCommand } from "./doctor-command.js";
import { enqueueCommand } from "./enqueue-command.js";
import { resultsCommand } from "./results-command.js";
import { serveCommand } from "./serve-command.js";
import { simulatorCommand } from "./simulator-command.js";
import { statusCommand } from "./status-command.js";
import { workerCommand } from "./worker-command.js";

/** The edge: the only place that reads process.env and decides exit codes. */
const env = { ...process.env };

const program = new Command("mde-cancel")
  .description("Cancel Microsoft Defender for Endpoint machine actions through a Redis queue.")
  .showHelpAfterError("(run mde-cancel --help for usage)")
  .exitOverride();
const commands = [
  workerCommand(env),
  enqueueCommand(env),
  campaignCommand(env),
  resultsCommand(env),
  statusCommand(env),
  serveCommand(env),
  apiKeysCommand(env),
  doctorCommand(env),
  auditCommand(env),
  simulatorCommand(env),
  demoCommand(env),
];
for (const command of commands) program.addCommand(throwOnUsageError(command));

/** Commander exits 1 on a usage error; usage errors exit 2 (README, Configuration), so every command and subcommand throws instead. */
function throwOnUsageError(command: Command): Command {
  for (const sub of command.commands) throwOnUsageError(sub);
  return command.exitOverride().showHelpAfterError("(run mde-cancel --help for usage)");
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeFor(err);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has printed its message already; help and version are not errors.
    return err.exitCode === 0 ? 0 : 2;
  }
  const debug = (env.LOG_LEVEL ?? "").toLowerCase() === "debug";
  const message = errorMessage(err);
  if (err instanceof UsageError || err instanceof OperationalError) {
    process.stderr.write(`mde-cancel: ${message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  process.stderr.write(`mde-cancel: unexpected error: ${message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}
