import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { requireWorkerCredentials } from "../../shared/config/credentials.js";
import { UrlTooLongError } from "../../shared/core/errors.js";
import { createLogger } from "../../shared/core/logger.js";
import { absoluteUrl } from "../../shared/defender/action-batches.js";
import { DefenderClient } from "../../shared/defender/defender-client.js";
import { createLimiter, createTokenProvider } from "../../shared/defender/defender-session.js";
import type { SimulatorOptions } from "../../sim/server.js";
import { type Harness, newActionId, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";

let h: Harness | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  redis?.disconnect();
  await h?.close();
  h = redis = undefined;
});

async function session(
  sim: Partial<SimulatorOptions> = {},
): Promise<{ harness: Harness; client: DefenderClient }> {
  const harness = await startHarness({ sim: { rateLimits: [], ...sim } });
  h = harness;
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const { config } = harness;
  const logger = createLogger("silent");
  const client = new DefenderClient({
    baseUrl: harness.sim.url,
    timeoutMs: config.httpTimeoutMs,
    tokens: createTokenProvider(config, requireWorkerCredentials(config), logger),
    budget: createLimiter(config, redis),
    logger,
  });
  return { harness, client };
}

const lists = (harness: Harness) => harness.sim.requests.filter((r) => r.endpoint === "list");
/** How many ids each recorded list call asked for, with its status. */
const sizes = (harness: Harness) =>
  lists(harness).map((r) => [new URLSearchParams(r.query).get("$top"), r.status]);

describe("checkActions", () => {
  it("checks 100 actions in 3 list calls of at most 40, each URL within 2,048 characters", async () => {
    const { harness, client } = await session();
    const known = Array.from({ length: 90 }, (_, i) =>
      harness.sim.store.add({ status: i % 2 ? "Pending" : "Succeeded" }),
    );
    const unknown = Array.from({ length: 10 }, newActionId);
    const found = await client.checkActions(TENANT, [...known.map((a) => a.id.toUpperCase()), ...unknown]);
    expect(found.size).toBe(90);
    for (const a of known) expect(found.get(a.id.toLowerCase())?.status).toBe(a.status);
    expect(sizes(harness)).toEqual([
      ["40", 200],
      ["40", 200],
      ["20", 200],
    ]);
    for (const r of lists(harness))
      expect(absoluteUrl(harness.sim.url, r.path + r.query).length).toBeLessThanOrEqual(2048);
    expect(harness.sim.requestCount("get")).toBe(0);
  });

  it("halves a batch the front door refused with 414, sends its ids again, and keeps the smaller size", async () => {
    // A front door stricter than the contract's 2,048: 40 ids are refused, 20 pass.
    const { harness, client } = await session({ maxRequestLineLength: 1200 });
    const actions = Array.from({ length: 40 }, () => harness.sim.store.add({ status: "Pending" }));
    const found = await client.checkActions(
      TENANT,
      actions.map((a) => a.id),
    );
    expect([...found.keys()].sort()).toEqual(actions.map((a) => a.id.toLowerCase()).sort());
    expect(sizes(harness)).toEqual([
      ["40", 414],
      ["20", 200],
      ["20", 200],
    ]);
    // The next check starts at the size that passed: no second 414.
    harness.sim.requests.length = 0;
    await client.checkActions(
      TENANT,
      actions.map((a) => a.id),
    );
    expect(sizes(harness)).toEqual([
      ["20", 200],
      ["20", 200],
    ]);
  });

  it("gives up with UrlTooLongError when even one id is refused", async () => {
    const { harness, client } = await session({ maxRequestLineLength: 100 });
    const ids = [newActionId(), newActionId()];
    await expect(client.checkActions(TENANT, ids)).rejects.toBeInstanceOf(UrlTooLongError);
    expect(sizes(harness)).toEqual([
      ["2", 414],
      ["1", 414],
    ]);
  });
});

describe("a worker's batched state checks", () => {
  it("spends at most 1.3 Defender calls per action on 200 urgent Pending enqueues at concurrency 50", async () => {
    const harness = await startHarness({
      sim: { rateLimits: [] },
      env: { WORKER_CONCURRENCY: "50", MDE_RATE_LIMITS: "100000/1m" },
    });
    h = harness;
    const actions = Array.from({ length: 200 }, () => harness.sim.store.add({ status: "Pending" }));
    await harness.enqueue(actions.map((a) => ({ machineActionId: a.id, comment: "batched checks" })));
    await harness.startWorker();
    const results = await harness.results(200, 60_000);
    expect(results.every((r) => r.outcome === "cancelled")).toBe(true);

    const defender = harness.sim.requests.filter((r) => ["get", "list", "cancel"].includes(r.endpoint));
    const count = (endpoint: string) => defender.filter((r) => r.endpoint === endpoint).length;
    expect(count("cancel")).toBe(200);
    // State first for every job: 200 checks, most of them shared by a list call.
    expect(count("list")).toBeGreaterThan(0);
    expect(defender.length / 200).toBeLessThanOrEqual(1.3);
  });
});
