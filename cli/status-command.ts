import { Command } from "commander";
import { parseConfig, readEnvironment } from "../shared/config/config.js";
import { formatDuration } from "../shared/config/durations.js";
import { createLimiter } from "../shared/defender/defender-session.js";
import { ENDPOINTS } from "../shared/defender/endpoints.js";
import { CampaignStore } from "../shared/redis/campaign-store.js";
import { connectRedis } from "../shared/redis/connection.js";
import { keyPrefix, openQueue } from "../shared/redis/queues.js";

export function statusCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("status")
    .description("Job counts by state, the rate-limit budget left, 429 pauses, and campaigns in progress.")
    .option("--json", "print one JSON object")
    .action(async (opts: { json?: boolean }) => {
      const config = parseConfig(readEnvironment(env, process.cwd()));
      const redis = await connectRedis(config.redisUrl, { blocking: false, queuePrefix: config.queuePrefix });
      const queues = [config.cancelQueue, ...config.resultsQueues].map((name) =>
        openQueue(name, redis, config),
      );
      try {
        const jobs = Object.fromEntries(
          await Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts()] as const)),
        );
        const limiter = createLimiter(config, redis);
        const tenants = config.tenantId ? [config.tenantId] : [];
        const budget = await Promise.all(
          tenants.flatMap((tenantId) =>
            ENDPOINTS.map(async (endpoint) => ({
              tenantId,
              endpoint,
              ...(await limiter.status(tenantId, endpoint)),
            })),
          ),
        );
        const campaigns = (
          await new CampaignStore(redis, keyPrefix(config), config.resultRetentionMs).list()
        ).filter((c) => c.done < c.total);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ jobs, budget, campaigns })}\n`);
          return;
        }
        const out = (line: string) => process.stdout.write(`${line}\n`);
        for (const [name, counts] of Object.entries(jobs))
          out(
            `queue ${name}: ${Object.entries(counts)
              .map(([state, n]) => `${state} ${n}`)
              .join(", ")}`,
          );
        if (tenants.length === 0) out("budget: set AZURE_TENANT_ID to see the tenant's budget");
        for (const b of budget) {
          const windows = b.windows
            .map((w) => `${w.left}/${w.limit} left per ${formatDuration(w.windowMs)} (${w.used} used)`)
            .join(", ");
          const pause =
            b.pausedForMs > 0
              ? `; paused by a 429 until ${new Date(Date.now() + b.pausedForMs).toISOString()}`
              : "";
          out(`budget ${b.tenantId} ${b.endpoint}: ${windows}${pause}`);
        }
        out(campaigns.length === 0 ? "campaigns in progress: none" : "campaigns in progress:");
        for (const c of campaigns)
          out(`  ${c.id}: ${c.done}/${c.total} done (failed ${c.counts.failed}), since ${c.createdAt}`);
      } finally {
        await Promise.all(queues.map((q) => q.close()));
        redis.disconnect();
      }
    });
}
