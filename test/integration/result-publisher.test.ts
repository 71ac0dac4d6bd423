import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import { ResultPublisher } from "../../worker/result-publisher.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const prefixes: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(prefixes.splice(0).map(deleteKeys));
});
afterAll(() => connection.disconnect());

function setup() {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const config = parseConfig({ QUEUE_PREFIX: prefix, RESULTS_QUEUE: "results" });
  const reader = new Queue("results", { connection, prefix });
  return { publisher: new ResultPublisher(connection, config), reader, config };
}

const result = (jobId: string): CancelResult => ({
  jobId,
  machineActionId: "5382f7ea-7557-4ab7-9782-d50480024a4e",
  tenantId: "11111111-2222-3333-4444-555555555555",
  outcome: "failed",
  status: null,
  action: null,
  error: {
    code: "upstream",
    message: "the job could not be processed: job stalled more than allowable limit",
  },
  attempts: 1,
  comment: "x",
  correlationId: null,
  campaignId: null,
  requestedBy: null,
  enqueuedAt: new Date(0).toISOString(),
  finishedAt: new Date().toISOString(),
});

/** The results queue's first add fails, as Redis does when full (noeviction) or during a failover. */
function failFirstAdd() {
  const add = vi.spyOn(Queue.prototype, "add");
  add.mockRejectedValueOnce(new Error("OOM command not allowed when used memory > 'maxmemory'."));
  return add;
}

describe("ResultPublisher", () => {
  it("publishes a result whose first try fails, exactly once", async () => {
    const { publisher, reader } = setup();
    const add = failFirstAdd();
    await publisher.publish(result("job-1"));
    expect(add).toHaveBeenCalledTimes(2);
    const published = await reader.getJobs(["waiting"]);
    expect(published.map((j) => (j.data as CancelResult).jobId)).toEqual(["job-1"]);
    await publisher.close();
    await reader.close();
  });

  it("closes only once the publishes in flight are done", async () => {
    const { reader, config } = setup();
    // Its own connection, which the worker's stop() ends right after closing the publisher.
    const own = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const publisher = new ResultPublisher(own, config);
    failFirstAdd();
    const publishing = publisher.publish(result("job-2"));
    // Shutdown comes while the publish waits to try again.
    await publisher.close();
    own.disconnect();
    await publishing;
    expect(await reader.getJobCounts("waiting")).toEqual({ waiting: 1 });
    await reader.close();
  });
});
