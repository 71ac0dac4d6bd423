import { Command } from "commander";
import { withProducer } from "../jobs/with-producer.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { formatDuration } from "../shared/config/durations.js";
import { tenantOption } from "./tenant-option.js";

export function statusCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("status")
    .description(
      "Job counts by state, each tenant's rate-limit budget left and 429 pauses, and campaigns in progress.",
    )
    .option("--tenant <id|name>", "only this tenant's budget (a GUID, or a name from MDE_TENANTS_FILE)")
    .option("--json", "print one JSON object")
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      const environment = readEnvironment(env, process.cwd());
      const config = parseConfig(environment);
      const tenant = tenantOption(config, environment, opts.tenant, false);
      const { jobs, budget, campaigns, callbacks, warnings } = await withProducer(
        config,
        (producer) => producer.status({ tenant }),
        { env: environment },
      );
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ jobs, budget, campaigns, callbacks, warnings })}\n`);
        return;
      }
      const out = (line: string) => process.stdout.write(`${line}\n`);
      for (const w of warnings) out(`warning: ${w.message}`);
      for (const [name, counts] of Object.entries(jobs))
        out(
          `queue ${name}: ${Object.entries(counts)
            .map(([state, n]) => `${state} ${n}`)
            .join(", ")}`,
        );
      if (budget.length === 0)
        out("budget: set AZURE_TENANT_ID or MDE_TENANTS_FILE to see each tenant's budget");
      for (const b of budget) {
        const windows = b.windows
          .map((w) => `${w.left}/${w.limit} left per ${formatDuration(w.windowMs)} (${w.used} used)`)
          .join(", ");
        const pause =
          b.pausedForMs > 0
            ? `; paused by a 429 until ${new Date(Date.now() + b.pausedForMs).toISOString()}`
            : "";
        // Without a tenants file the name is the id: print it once.
        const who = b.tenant === b.tenantId ? b.tenantId : `${b.tenant} (${b.tenantId})`;
        out(`budget ${who} ${b.endpoint}: ${windows}${pause}`);
      }
      out(`callbacks: ${callbacks.pending} pending, ${callbacks.failed} failed`);
      out(campaigns.length === 0 ? "campaigns in progress: none" : "campaigns in progress:");
      for (const c of campaigns)
        out(
          `  ${c.id}: ${c.done}/${c.total} done (failed ${c.counts.failed}), since ${c.createdAt}${c.etaMs === undefined ? "" : `, ETA ${formatDuration(c.etaMs)} at the budget`}`,
        );
    });
}
