import { Command } from "commander";
import { withProducer } from "../jobs/with-producer.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { isGuid } from "../shared/contract/guid.js";
import { commentProblem, MAX_COMMENT_CHARS, MAX_PRIORITY, validPriority } from "../shared/contract/limits.js";
import { UsageError } from "../shared/core/errors.js";
import { tenantOption } from "./tenant-option.js";

export function enqueueCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("enqueue")
    .description("Enqueue one cancel job per machine action id (all or nothing).")
    .argument("<machineActionId...>", "machine action ids (GUIDs)")
    .requiredOption(
      "--comment <text>",
      `cancellation comment sent to Defender (1..${MAX_COMMENT_CHARS} characters)`,
    )
    .option("--tenant <id|name>", "tenant GUID, or name from MDE_TENANTS_FILE (default: the default tenant)")
    .option("--correlation-id <s>", "correlation id carried to the result")
    .option("--requested-by <s>", "who asked, carried to the result")
    .option("--priority <n>", `BullMQ priority 1..${MAX_PRIORITY} (default: none, taken first)`)
    .option("--json", "print one JSON object per action")
    .action(async (ids: string[], opts: Record<string, string | boolean | undefined>) => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      const priority = opts.priority === undefined ? undefined : Number(opts.priority);
      if (priority !== undefined && !(/^\d+$/.test(String(opts.priority)) && validPriority(priority)))
        throw new UsageError(
          `--priority ${JSON.stringify(opts.priority)} must be a whole number from 1 to ${MAX_PRIORITY}.`,
        );
      const comment = String(opts.comment);
      const problem = commentProblem(comment);
      if (problem) throw new UsageError(`--comment ${problem}.`);
      const tenantId = tenantOption(config, environment, opts.tenant as string | undefined, true);
      const requests = ids.map((machineActionId) => ({
        machineActionId,
        comment,
        tenantId,
        correlationId: opts.correlationId as string | undefined,
        requestedBy: opts.requestedBy as string | undefined,
      }));
      const badIds = ids.filter((id) => !isGuid(id));
      if (badIds.length > 0)
        throw new UsageError(
          `Nothing was enqueued: ${badIds.map((id) => JSON.stringify(id)).join(", ")} ${badIds.length === 1 ? "is not a" : "are not"} machine action GUID${badIds.length === 1 ? "" : "s"}.`,
        );
      await withProducer(
        config,
        async (producer) => {
          for (const e of await producer.enqueue(requests, { priority })) {
            const status = e.added ? "added" : e.promoted ? "promoted" : "already_queued";
            process.stdout.write(
              opts.json
                ? `${JSON.stringify({ ...e, status })}\n`
                : `${e.jobId}\t${status.replace("_", " ")}\t${e.machineActionId}\n`,
            );
          }
        },
        { env: environment },
      );
    });
}
