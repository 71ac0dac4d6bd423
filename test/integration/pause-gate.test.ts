import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { requireWorkerCredentials } from "../../shared/config/credentials.js";
import { BudgetWaitError } from "../../shared/core/errors.js";
import { createLogger } from "../../shared/core/logger.js";
import { DefenderClient } from "../../shared/defender/defender-client.js";
import { createLimiter, createTokenProvider } from "../../shared/defender/defender-session.js";
import type { RateLimiter } from "../../shared/redis/rate-limiter.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { type SlowFrontDoor, startSlowFrontDoor } from "../support/slow-front-door.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
let door: SlowFrontDoor | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  await door?.close();
  redis?.disconnect();
  await h?.close();
  h = door = redis = undefined;
});

/** A Defender client whose API calls go through a front door that takes `connectMs` to open a connection. */
async function slowSession(
  connectMs: number,
): Promise<{ harness: Harness; session: { client: DefenderClient; limiter: RateLimiter } }> {
  const harness = await startHarness({ sim: { rateLimits: [] } });
  h = harness;
  door = await startSlowFrontDoor(harness.sim.url, connectMs);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const { config } = harness;
  const logger = createLogger("silent");
  const tokens = createTokenProvider(config, requireWorkerCredentials(config), logger);
  const limiter = createLimiter(config, redis);
  const client = new DefenderClient({
    baseUrl: door.url,
    timeoutMs: config.httpTimeoutMs,
    tokens,
    budget: limiter,
    logger,
  });
  await tokens.get(TENANT); // the token in hand: the call below waits only for its connection
  return { harness, session: { client, limiter } };
}

describe("a call admitted before a 429 pause, on a connection still opening", () => {
  it("is never sent: it fails with the pause's wait and gives its budget back", async () => {
    const { harness, session } = await slowSession(1_500);
    const id = harness.sim.store.add({ status: "Pending" }).id;
    const call = session.client.getAction(TENANT, id);
    const outcome = call.then(
      () => undefined,
      (err: unknown) => err,
    );
    // Admitted (it holds its slot), then another worker's 429 pauses the endpoint while it connects.
    await waitFor("the call's admission", async () => {
      const status = await session.limiter.status(TENANT, "get");
      return status.windows[0]?.used === 1;
    });
    await session.limiter.pause(TENANT, "get", 30_000);

    const err = await outcome;
    expect(err).toBeInstanceOf(BudgetWaitError);
    expect((err as BudgetWaitError).waitMs).toBeGreaterThan(20_000);
    expect(door?.connections()).toBe(1);
    expect(harness.sim.requestCount("get")).toBe(0);
    // Nothing was sent, so the call no longer counts against the budget.
    expect((await session.limiter.status(TENANT, "get")).windows[0]?.used).toBe(0);
  });

  it("goes out once its connection is ready when no pause was set, and later calls reuse it", async () => {
    const { harness, session } = await slowSession(300);
    const id = harness.sim.store.add({ status: "Pending" }).id;
    expect((await session.client.getAction(TENANT, id)).status).toBe("Pending");
    // A pause on another endpoint does not hold this one back; the kept-alive connection is reused.
    await session.limiter.pause(TENANT, "cancel", 30_000);
    expect((await session.client.getAction(TENANT, id)).status).toBe("Pending");
    expect(harness.sim.requestCount("get")).toBe(2);
    expect(door?.connections()).toBe(1);
  });
});

describe("a cancel whose claim took its budget (CallOptions.admission)", () => {
  it("spends that admission: one slot for the POST, and a token refresh's second POST takes its own", async () => {
    const { harness, session } = await slowSession(0);
    const id = harness.sim.store.add({ status: "Pending" }).id;
    const claim = { key: `${harness.config.queuePrefix}:test-claim:${id}`, owner: "me", ms: 60_000 };
    const taken = await session.limiter.takeClaiming(TENANT, "cancel", {}, claim);
    if (!("ok" in taken) || !taken.ok) throw new Error("expected an admission");
    // The token in hand was revoked: the first POST meets a 401, the refreshed one goes through.
    harness.sim.revokeTokens();
    const action = await session.client.cancelAction(TENANT, id, "ahead", { admission: taken });
    expect(action.status).toBe("Cancelled");
    expect(harness.sim.requestCount("cancel")).toBe(2);
    // Two POSTs, two slots: the one the claim took and the one the second POST asked for.
    await waitFor("both POSTs settled", async () => {
      const status = await session.limiter.status(TENANT, "cancel");
      return status.windows[0]?.used === 2;
    });
    await redis?.del(claim.key);
  });
});
