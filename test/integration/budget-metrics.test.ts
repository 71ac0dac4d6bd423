/**
 * `mde_rate_limit_used_ratio` (issue 13, part 4): each served tenant's budget use per endpoint and
 * window, read from the limiter's Redis state at scrape time, as any worker sharing it counts it.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { parseRateLimits } from "../../shared/config/durations.js";
import { createLimiter } from "../../shared/defender/defender-session.js";
import type { Endpoint } from "../../shared/defender/endpoints.js";
import type { Harness } from "../support/harness.js";
import { sample } from "../support/prom-sample.js";
import { REDIS_URL } from "../support/redis.js";
import { HEALTHY, SOVEREIGN, startTenantsHarness, writeTenantsFile } from "../support/tenants.js";

let h: Harness | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  redis?.disconnect();
  await h?.close();
  h = undefined;
});

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return response.text();
}

describe("budget use on /metrics", () => {
  it("shows k of N calls spent as k/N, per tenant (by name), endpoint and window, open calls included", async () => {
    const port = await freePort();
    const started = await startTenantsHarness({ METRICS_PORT: String(port) });
    h = started.harness;
    // Windows long enough that no call leaves them while the test runs, however slow the machine.
    const budgets = { healthy: "10/1m,40/1h", sovereign: "20/1h" };
    writeTenantsFile(
      started.file,
      [
        { ...started.entries.healthy, rateLimits: budgets.healthy },
        { ...started.entries.sovereign, rateLimits: budgets.sovereign },
      ],
      "healthy",
    );
    await h.startWorker();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    // Spent as another worker process would: a limiter of the same prefix and budget.
    const spend = async (
      tenantId: string,
      limits: string,
      endpoint: Endpoint,
      k: number,
      settled: number,
    ) => {
      const limiter = createLimiter((h as Harness).config, redis as Redis, {
        rateLimits: parseRateLimits(limits) ?? [],
        campaignBudgetShare: 1,
      });
      for (let i = 0; i < k; i++) {
        const taken = await limiter.take(tenantId, endpoint);
        if (!taken.ok) throw new Error(`budget refused call ${i + 1}`);
        if (i < settled) await taken.settle();
      }
    };
    await spend(HEALTHY, budgets.healthy, "cancel", 3, 2);
    await spend(SOVEREIGN, budgets.sovereign, "list", 5, 5);

    const text = await scrape(port);
    const ratio = (tenant: string, endpoint: string, window: string) =>
      sample(text, `mde_rate_limit_used_ratio{tenant="${tenant}",endpoint="${endpoint}",window="${window}"}`);
    expect(ratio("healthy", "cancel", "1m")).toBeCloseTo(3 / 10);
    expect(ratio("healthy", "cancel", "1h")).toBeCloseTo(3 / 40);
    expect(ratio("healthy", "list", "1m")).toBe(0);
    expect(ratio("sovereign", "list", "1h")).toBeCloseTo(5 / 20);
    expect(ratio("sovereign", "cancel", "1h")).toBe(0);
    // The label is the tenant's name, never its id or free text; a tenant not served has no series.
    expect(text).not.toContain(`mde_rate_limit_used_ratio{tenant="${HEALTHY}"`);
    expect(text).not.toMatch(/mde_rate_limit_used_ratio\{tenant="bad-secret"/);
    // The same read as the calls left: used + left = limit.
    expect(sample(text, 'mde_rate_limit_budget_left{tenant="healthy",endpoint="cancel",window="1m"}')).toBe(
      7,
    );
  });
});
