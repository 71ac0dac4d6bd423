import { Command } from "commander";
import { type Config, parseConfig, readEnvironment } from "../shared/config/config.js";
import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";
import { loadTenantInfo } from "../shared/config/tenants.js";
import { UsageError } from "../shared/core/errors.js";
import { ApiKeyStore } from "../shared/redis/api-key-store.js";
import { connectRedis } from "../shared/redis/connection.js";
import { keyPrefix } from "../shared/redis/queues.js";

export function apiKeysCommand(env: NodeJS.ProcessEnv): Command {
  const environment = () => readEnvironment(env, process.cwd());
  const config = () => parseConfig(environment());
  const command = new Command("api-keys").description(
    "Create, list and revoke the API keys of mde-cancel serve (only their SHA-256 is stored).",
  );
  command
    .command("create")
    .description("Create a key and print it, once.")
    .requiredOption("--name <s>", "unique name: requests carry requestedBy api-key:<name>")
    .option("--tenant <id|name...>", "limit the key to these tenants, by id or name (default: every tenant)")
    .option("--read-only", "the key may only GET (poll jobs and campaigns)")
    .option("--json", 'print {"name","key"}')
    .action((opts: { name: string; tenant?: string[]; readOnly?: boolean; json?: boolean }) => {
      const settings = config();
      const directory = loadTenantInfo({ config: settings, env: environment() });
      const tenants = (opts.tenant ?? []).map((t) => tenantId(directory, t));
      return withStore(settings, async (store) => {
        const { record, key } = await store.create({
          name: opts.name,
          tenants: [...new Set(tenants)],
          readOnly: Boolean(opts.readOnly),
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ name: record.name, key })}\n`);
          return;
        }
        process.stderr.write(`API key ${record.name} created; it is shown this once, store it now:\n`);
        process.stdout.write(`${key}\n`);
      });
    });
  command
    .command("list")
    .description("List the keys: names, tenants, read-only; never a key or its hash.")
    .option("--json", "print one JSON object per key")
    .action((opts: { json?: boolean }) =>
      withStore(config(), async (store) => {
        const records = await store.list();
        for (const r of records)
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(r)}\n`
              : `${r.name}\t${r.tenants.length > 0 ? r.tenants.join(",") : "all tenants"}\t${r.readOnly ? "read-only" : "read-write"}\t${r.createdAt}\n`,
          );
        if (records.length === 0 && !opts.json)
          process.stderr.write("No API keys; api-keys create makes one.\n");
      }),
    );
  command
    .command("revoke")
    .description("Revoke a key at once: its next request is answered 401.")
    .argument("<name>", "the key's name")
    .action((name: string) =>
      withStore(config(), async (store) => {
        if (!(await store.revoke(name)))
          throw new UsageError(`No API key is named ${JSON.stringify(name)}; api-keys list shows them.`);
        process.stdout.write(`API key ${name} revoked.\n`);
      }),
    );
  return command;
}

/** The tenant's id (keys store ids); a tenant this deployment does not serve is refused, as at every front door. */
function tenantId(directory: TenantDirectory<TenantInfo>, idOrName: string): string {
  const id = directory.resolve(idOrName)?.tenantId;
  if (!id)
    throw new UsageError(
      `--tenant ${JSON.stringify(idOrName)} is not a tenant this deployment serves (MDE_TENANTS_FILE, or AZURE_TENANT_ID without one); give one of its ids or names.`,
    );
  return id;
}

async function withStore(config: Config, use: (store: ApiKeyStore) => Promise<void>): Promise<void> {
  const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
  try {
    await use(new ApiKeyStore(redis, keyPrefix(config)));
  } finally {
    redis.disconnect();
  }
}
