import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RecentSightings } from "../../shared/redis/recent-sightings.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

// The Redis side of looking ahead (recent-sightings.ts): which delayed jobs a list call takes along,
// and what a job finds later. Real BullMQ delayed jobs, real Redis; the clock is the test's.

const TENANT = "11111111-2222-3333-4444-555555555555";
const QUEUE = "cancels";

let redis: Redis;
let prefix: string;
let queue: Queue;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await queue?.close();
  await deleteKeys(prefix);
});

/** A campaign job due in `dueInMs`, as campaigns add them (seen omitted when `status` is undefined). */
async function add(campaignId: string, dueInMs: number, status: string | undefined, now: number) {
  const machineActionId = randomUUID();
  const seen = status === undefined ? {} : { seen: { status, at: now - 120_000 } };
  await queue.add(
    "cancel",
    { machineActionId, comment: "x", campaignId, tenantId: TENANT, ...seen },
    { delay: dueInMs, timestamp: now },
  );
  return machineActionId;
}

function open() {
  prefix = uniquePrefix();
  queue = new Queue(QUEUE, { connection: redis, prefix });
  const now = Date.now();
  return { now, sightings: new RecentSightings(redis, `${prefix}:${QUEUE}`, () => now) };
}

describe("RecentSightings", () => {
  it("takes along the campaign's jobs due within the minute that may still need a cancel", async () => {
    const { now, sightings } = open();
    const wanted = [
      await add("c-1", 5_000, "Pending", now),
      await add("c-1", 30_000, "InProgress", now),
      await add("c-1", 45_000, undefined, now),
    ];
    await add("c-1", 200, "Pending", now); // starts before the answer: checks itself
    await add("c-1", 58_000, "Pending", now); // may be stale again when it runs
    await add("c-1", 20_000, "Succeeded", now); // terminal is final
    await add("c-2", 10_000, "Pending", now); // another campaign
    const got = await sightings.upcoming(TENANT, new Set(["c-1"]), 39);
    expect(got.sort()).toEqual(wanted.map((id) => id.toLowerCase()).sort());
    // Marked while the call is out: another worker does not take them again.
    expect(await sightings.upcoming(TENANT, new Set(["c-1"]), 39)).toEqual([]);
    expect(await sightings.upcoming(TENANT, new Set(["c-1", "c-2"]), 39)).toHaveLength(1);
  });

  it("takes no more than the room asked for", async () => {
    const { now, sightings } = open();
    for (let i = 0; i < 12; i++) await add("c-1", 5_000 + i * 1_000, "Pending", now);
    expect(await sightings.upcoming(TENANT, new Set(["c-1"]), 5)).toHaveLength(5);
    expect(await sightings.upcoming(TENANT, new Set(["c-1"]), 39)).toHaveLength(7);
  });

  it("keeps what a call saw until it is a minute old, and a mark is not a sighting", async () => {
    const { now, sightings } = open();
    const [a, b, marked] = [randomUUID(), randomUUID(), await add("c-1", 5_000, "Pending", now)];
    expect(await sightings.upcoming(TENANT, new Set(["c-1"]), 1)).toEqual([marked]);
    expect(await sightings.recall(TENANT, marked)).toBeUndefined();
    await sightings.remember(
      TENANT,
      [
        { id: a, status: "Pending" },
        { id: b, status: "Succeeded" },
      ],
      now - 1_000,
    );
    expect(await sightings.recall(TENANT, a)).toEqual({ status: "Pending", at: now - 1_000 });
    expect(await sightings.recall(TENANT.toUpperCase(), b.toUpperCase())).toEqual({
      status: "Succeeded",
      at: now - 1_000,
    });
    const ttl = await redis.pttl(`${prefix}:${QUEUE}:seen:${TENANT}:${a}`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(59_000);
    // Seen over a minute ago: nothing is kept.
    await sightings.remember(TENANT, [{ id: marked, status: "Pending" }], now - 61_000);
    expect(await sightings.recall(TENANT, marked)).toBeUndefined();
  });
});
