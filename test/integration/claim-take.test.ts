import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BudgetWaitError } from "../../shared/core/errors.js";
import { CancelClaims } from "../../shared/redis/cancel-claims.js";
import { RateLimiter } from "../../shared/redis/rate-limiter.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLAIM_MS = 60_000;
const LIMIT = 7;

let connections: Redis[];
let prefix: string;
beforeAll(() => {
  connections = Array.from({ length: 4 }, () => new Redis(REDIS_URL));
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.quit()));
});
afterEach(async () => {
  await Promise.all(releases.map((release) => release()));
  releases = [];
  await deleteKeys(prefix);
});

/** One worker process's view: its own connection, limiter and claims, over the shared keys. */
function process_(redis: Redis) {
  const limiter = new RateLimiter(redis, {
    prefix,
    windows: [{ limit: LIMIT, windowMs: 60_000 }],
    campaignShare: 1,
  });
  return { limiter, claims: new CancelClaims(redis, prefix) };
}

type Outcome = "claimed" | "held" | "budget";
/** The claims the runs got, released once every run has asked (so none frees one for another). */
let releases: (() => Promise<void>)[] = [];

/** A job run asking for the claim of `actionId` with the cancel's budget, as the worker does. */
async function run(p: ReturnType<typeof process_>, actionId: string): Promise<Outcome> {
  try {
    const claim = await p.claims.claim(TENANT, actionId, CLAIM_MS, { limiter: p.limiter, campaign: false });
    if (!("release" in claim)) return "held";
    releases.push(claim.release);
    return "claimed";
  } catch (err) {
    if (err instanceof BudgetWaitError) return "budget";
    throw err;
  }
}

describe("claim, budget and pause in one script (CancelClaims with a ClaimBudget)", () => {
  it("never admits more than the window nor two claims for one action, many callers on four connections", async () => {
    prefix = uniquePrefix();
    const procs = connections.map(process_);
    // 5 actions, 12 runs of each, all at once, spread over the four connections.
    const actions = Array.from({ length: 5 }, (_, i) => `5382f7ea-7557-4ab7-9782-d5048002400${i}`);
    const runs = actions.flatMap((a) => Array.from({ length: 12 }, () => a));
    const outcomes = await Promise.all(runs.map((a, i) => run(procs[i % procs.length] as never, a)));
    const claimedBy = new Map<string, number>();
    runs.forEach((a, i) => {
      if (outcomes[i] === "claimed") claimedBy.set(a, (claimedBy.get(a) ?? 0) + 1);
    });
    // One claim per action, every action claimed (the budget, 7, covers 5 claims).
    expect([...claimedBy.values()]).toEqual([1, 1, 1, 1, 1]);
    // A held claim took no budget: the log holds the 5 admissions only.
    expect(await connections[0]?.zcard(`${prefix}:rl:${TENANT}:cancel:log`)).toBe(5);
    expect(outcomes.filter((o) => o === "budget")).toEqual([]);
  });

  it("never admits more than the window when every caller claims a different action", async () => {
    prefix = uniquePrefix();
    const procs = connections.map(process_);
    const actions = Array.from(
      { length: 40 },
      (_, i) => `5382f7ea-7557-4ab7-9782-d504800240${String(i).padStart(2, "0")}`,
    );
    const outcomes = await Promise.all(actions.map((a, i) => run(procs[i % procs.length] as never, a)));
    expect(outcomes.filter((o) => o === "claimed")).toHaveLength(LIMIT);
    expect(outcomes.filter((o) => o === "budget")).toHaveLength(40 - LIMIT);
    // A refused caller set no claim: exactly the admitted ones hold one.
    const claimKeys = await connections[0]?.keys(`${prefix}:cancel-claim:*`);
    expect(claimKeys).toHaveLength(LIMIT);
  });

  it("sets no claim while the endpoint is paused, and hands the admission to the run's POST", async () => {
    prefix = uniquePrefix();
    const p = process_(connections[0] as Redis);
    await p.limiter.pause(TENANT, "cancel", 60_000);
    expect(await run(p, "5382f7ea-7557-4ab7-9782-d50480024a4e")).toBe("budget");
    expect(await connections[0]?.keys(`${prefix}:cancel-claim:*`)).toEqual([]);
    await connections[0]?.del(`${prefix}:rl:${TENANT}:cancel:pause`);

    // The claim hands over the admission made with it, for the POST: no second entry in the log.
    const claim = await p.claims.claim(TENANT, "5382f7ea-7557-4ab7-9782-d50480024a4f", CLAIM_MS, {
      limiter: p.limiter,
      campaign: false,
    });
    if (!("release" in claim) || !claim.admission) throw new Error("expected a claim with its admission");
    await claim.admission.settle();
    await claim.release();
    expect(await connections[0]?.zcard(`${prefix}:rl:${TENANT}:cancel:log`)).toBe(1);
    // Let go of with the POST's settle: no claim is left.
    expect(await connections[0]?.keys(`${prefix}:cancel-claim:*`)).toEqual([]);
  });
});
