import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import { loadTenantInfo } from "../../shared/config/tenants.js";
import type { MachineAction } from "../../shared/contract/cancel-result.js";
import { OperationalError } from "../../shared/core/errors.js";
import { CancelClaims } from "../../shared/redis/cancel-claims.js";
import { processCancel } from "../../worker/cancel-processor.js";
import type { ActionsApi, ProcessorDeps } from "../../worker/processor-types.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const ID = "5382f7ea-7557-4ab7-9782-d50480024a4e";
const CLAIM_MS = 1_500;

let redis: Redis;
let prefix: string;
let claims: CancelClaims;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  await deleteKeys(prefix);
});

function setup() {
  prefix = uniquePrefix();
  claims = new CancelClaims(redis, prefix);
}

/** Another run of the same job asking for the claim: true when it gets it (so it would cancel too). */
async function anotherRunGetsClaim(): Promise<boolean> {
  const claim = await claims.claim(TENANT, ID, CLAIM_MS);
  if ("heldMs" in claim) return false;
  await claim.release();
  return true;
}

function deps(api: ActionsApi, saveState: ProcessorDeps["saveState"]): ProcessorDeps {
  const settings = {
    maxAttempts: 3,
    throttleGiveUpMs: 60_000,
    notFoundGraceMs: 10_000,
    cancelClaimMs: CLAIM_MS,
  };
  const tenants = loadTenantInfo({ config: parseConfig({ AZURE_TENANT_ID: TENANT }), env: {} });
  return { api, settings, tenants, claims, saveState };
}

const input = {
  jobId: "job-1",
  data: { machineActionId: ID, comment: "x" },
  enqueuedAt: 0,
  state: { failures: 0 },
};
const action = (status: string): MachineAction => ({ id: ID, status });

describe("the per-action cancel claim, on real Redis", () => {
  it("holds while a cancel outlasts its lifetime (a 401, a slow token refresh, the second POST)", async () => {
    setup();
    const seen: boolean[] = [];
    const api: ActionsApi = {
      getAction: async () => action("Pending"),
      cancelAction: async () => {
        // The time itself is what is tested: three lifetimes of the claim pass while this cancel is in flight.
        await sleep(3 * CLAIM_MS);
        seen.push(await anotherRunGetsClaim());
        return action("Cancelled");
      },
    };
    const decision = await processCancel(
      input,
      deps(api, async () => undefined),
    );
    expect(decision.kind === "done" && decision.result.outcome).toBe("cancelled");
    expect(seen).toEqual([false]);
    // Released once the answer came: the next run need not wait.
    expect(await anotherRunGetsClaim()).toBe(true);
  });

  it("is released when saving the cancel mark fails, and no cancel leaves", async () => {
    setup();
    let cancels = 0;
    const api: ActionsApi = {
      getAction: async () => action("Pending"),
      cancelAction: async () => {
        cancels += 1;
        return action("Cancelled");
      },
    };
    const refused = new OperationalError("the job's lock passed to another run");
    await expect(
      processCancel(
        input,
        deps(api, async () => {
          throw refused;
        }),
      ),
    ).rejects.toBe(refused);
    expect(cancels).toBe(0);
    expect(await anotherRunGetsClaim()).toBe(true);
  });
});
