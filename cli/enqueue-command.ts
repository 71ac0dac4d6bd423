import { Command } from "commander";
import type { Producer } from "../jobs/producer.js";
import { withProducer } from "../jobs/with-producer.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { isGuid } from "../shared/contract/guid.js";
import {
  commentProblem,
  MAX_COMMENT_CHARS,
  MAX_PRIORITY,
  MAX_TEXT_CHARS,
} from "../shared/contract/limits.js";
import { cliClient } from "./cli-client.js";
import { integerOption, problemOf, refuse } from "./options.js";
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
      const comment = String(opts.comment);
      const tenant = opts.tenant === undefined ? undefined : String(opts.tenant);
      let tenantId: string | undefined;
      const badIds = ids.filter((id) => !isGuid(id));
      // Every bad argument named in one sentence, before Redis is asked (the contract: all or nothing).
      refuse(
        [
          badIds.length === 0
            ? undefined
            : `${badIds.map((id) => JSON.stringify(id)).join(", ")} ${badIds.length === 1 ? "is not a machine action GUID" : "are not machine action GUIDs"}`,
          problemOf(
            () =>
              opts.priority === undefined ||
              integerOption("--priority", String(opts.priority), 1, MAX_PRIORITY),
          ),
          problemOf(() => {
            tenantId = tenantOption(config, environment, tenant, true);
          }),
          commentProblem(comment) && `--comment ${commentProblem(comment)}`,
          textProblem("--correlation-id", opts.correlationId),
          textProblem("--requested-by", opts.requestedBy),
        ],
        "Nothing was enqueued: ",
      );
      const priority = opts.priority === undefined ? undefined : Number(opts.priority);
      const requests = ids.map((machineActionId) => ({
        machineActionId,
        comment,
        tenantId,
        correlationId: opts.correlationId as string | undefined,
        requestedBy: opts.requestedBy as string | undefined,
      }));
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
      await withProducer(config, run, { client: cliClient(), env: environment });
    });
}

function textProblem(name: string, value: unknown): string | undefined {
  const length = typeof value === "string" ? value.length : 0;
  return length > MAX_TEXT_CHARS ? `${name} must be at most ${MAX_TEXT_CHARS} characters` : undefined;
}
