import { Command } from "commander";
import { runDoctor } from "../jobs/doctor/doctor.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import type { TenantDirectory, TenantSettings } from "../shared/config/tenant-directory.js";
import { loadTenants } from "../shared/config/tenants.js";
import { UsageError } from "../shared/core/errors.js";
import { doctorTable } from "./doctor-view.js";

export function doctorCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("doctor")
    .description(
      "Checks each tenant (a token from Entra ID, the app roles in it, one list call) and Redis; exit 0 when all is well, 1 otherwise.",
    )
    .option("--tenant <id|name>", "check this tenant only (default: every tenant)")
    .option("--json", "print one JSON object")
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      const directory = loadTenants({ config, env: environment });
      const tenants = opts.tenant === undefined ? directory.list() : [named(directory, opts.tenant)];
      const report = await runDoctor({ config, tenants });
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : doctorTable(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}

function named(directory: TenantDirectory<TenantSettings>, idOrName: string): TenantSettings {
  const tenant = directory.resolve(idOrName);
  if (tenant) return tenant;
  const known = directory
    .list()
    .map((t) => t.name)
    .join(", ");
  throw new UsageError(
    directory.file === undefined
      ? `--tenant ${JSON.stringify(idOrName)} is not AZURE_TENANT_ID (${known}), the only tenant without MDE_TENANTS_FILE; name that one, or list yours in a tenants file.`
      : `--tenant ${JSON.stringify(idOrName)} is not a tenant of MDE_TENANTS_FILE ${directory.file}; name one of ${known} (by name or id).`,
  );
}
