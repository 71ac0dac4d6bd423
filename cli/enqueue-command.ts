import { Command } from "commander";
import type { Producer } from "../jobs/producer.js";
import { withProducer } from "../jobs/with-producer.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { isGuid } from "../shared/contract/guid.js";
import { commentProblem, MAX_COMMENT_CHARS, MAX_PRIORITY, validPriority } from "../shared/contract/limits.js";
import { UsageError } from "../shared/core/errors.js";
import { cliClient } from "./cli-client.js";

export function enqueueCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("enqueue")
    .description("Enqueue one cancel job per machine action id (all or nothing).")
    .argument("<machineActionId...>", "machine action ids (GUIDs)")
    .requiredOption(
      "--comment <text>",
      `cancellation comment sent to Defender (1..${MAX_COMMENT_CHARS} characters)`,
    )
    .option("--tenant <id>", "tenant GUID (default: AZURE_TENANT_ID)")
    .option("--correlation-id <s>", "correlation id carried to the result")
    .option("--requested-by <s>", "who asked, carried to the result")
    .option("--priority <n>", `BullMQ priority 1..${MAX_PRIORITY} (default: none, taken first)`)
    .option("--json", "print one JSON object per action")
    .action(async (ids: string[], opts: Record<string, string | boolean | undefined>) => {
      const config = parseConfig(readEnvironment(env, process.cwd()));
      const priority = opts.priority === undefined ? undefined : Number(opts.priority);
      if (priority !== undefined && !(/^\d+$/.test(String(opts.priority)) && validPriority(priority)))
        throw new UsageError(
          `--priority ${JSON.stringify(opts.priority)} must be a whole number from 1 to ${MAX_PRIORITY}.`,
        );
      if (opts.tenant !== undefined && !isGuid(String(opts.tenant)))
        throw new UsageError(`--tenant ${JSON.stringify(opts.tenant)} must be a tenant GUID.`);
      const comment = String(opts.comment);
      const problem = commentProblem(comment);
      if (problem) throw new UsageError(`--comment ${problem}.`);
      const requests = ids.map((machineActionId) => ({
        machineActionId,
        comment,
        tenantId: opts.tenant as string | undefined,
        correlationId: opts.correlationId as string | undefined,
        requestedBy: opts.requestedBy as string | undefined,
      }));
      const badIds = ids.filter((id) => !isGuid(id));
      if (badIds.length > 0)
        throw new UsageError(
          `Nothing was enqueued: ${badIds.map((id) => JSON.stringify(id)).join(", ")} ${badIds.length === 1 ? "is not a" : "are not"} machine action GUID${badIds.length === 1 ? "" : "s"}.`,
        );
      const run = async (producer: Producer) => {
        for (const e of await producer.enqueue(requests, { priority })) {
          const status = e.added ? "added" : e.promoted ? "promoted" : "already_queued";
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ ...e, status })}\n`
              : `${e.jobId}\t${status.replace("_", " ")}\t${e.machineActionId}\n`,
          );
        }
      };
      await withProducer(config, run, { client: cliClient() });
    });
}
