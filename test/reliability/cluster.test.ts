import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { type Harness, startHarness } from "../support/harness.js";
import { redisCluster } from "../support/redis-server.js";
import { waitFor } from "../support/wait.js";
import { countBy, expectNoSecrets, record, track } from "./support/evidence.js";

let cluster: Awaited<ReturnType<typeof redisCluster>>;
let h: Harness | undefined;
beforeAll(async () => {
  cluster = await redisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  if (h) expectNoSecrets(h.sim, h.logs);
  await h?.close();
  h = undefined;
});

const cli = async (args: string[], env: Record<string, string>) => {
  const run = await runCli(args, { ...env, LOG_LEVEL: "info" });
  track(run.stdout, run.stderr);
  return run;
};

describe("Redis Cluster (3 nodes, QUEUE_PREFIX={mde})", () => {
  it("refuses to start with exit 2 when QUEUE_PREFIX has no hash tag", async () => {
    h = await startHarness({ env: { REDIS_URL: cluster.url, QUEUE_PREFIX: "bull" } });
    const enqueue = await cli(["enqueue", crypto.randomUUID(), "--comment", "x"], h.env);
    const worker = await cli(["worker"], h.env);
    for (const run of [enqueue, worker]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /Redis Cluster and QUEUE_PREFIX="bull" has no hash tag; set QUEUE_PREFIX to a \{hash-tag\}/,
      );
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("runs the core scenarios unchanged: cancel, already_terminal, not_found, dedup, campaign --wait, results, status", async () => {
    h = await startHarness({ env: { REDIS_URL: cluster.url, QUEUE_PREFIX: "{mde}" } });
    const { sim, env } = h;
    const pending = sim.store.add({ status: "Pending" }).id;
    const finished = sim.store.add({ status: "Succeeded" }).id;
    const unknown = crypto.randomUUID();

    const first = await cli(["enqueue", pending, finished, unknown, "--comment", "cluster", "--json"], env);
    expect(first.code).toBe(0);
    const again = await cli(["enqueue", pending.toUpperCase(), "--comment", "cluster", "--json"], env);
    expect(again.code).toBe(0);
    const [added] = first.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(JSON.parse(again.stdout)).toMatchObject({
      jobId: added.jobId,
      added: false,
      status: "already_queued",
    });

    await h.startWorker();
    const campaignIds = [
      ...Array.from({ length: 5 }, () => sim.store.add({ status: "Pending" }).id),
      ...Array.from({ length: 2 }, () => sim.store.add({ status: "Failed" }).id),
    ];
    const file = join(mkdtempSync(join(tmpdir(), "mde-cluster-")), "ids.txt");
    writeFileSync(file, campaignIds.join("\n"));
    const campaign = await cli(
      ["campaign", "--comment", "cluster", "--ids-file", file, "--name", "on-cluster", "--wait", "--json"],
      env,
    );
    expect(campaign.code).toBe(0);
    expect(JSON.parse(campaign.stdout.trim().split("\n").at(-1) as string)).toMatchObject({
      campaignId: "on-cluster",
      total: 7,
      done: 7,
      counts: { cancelled: 5, already_terminal: 2, not_found: 0, failed: 0 },
    });

    // The three single jobs (not_found after NOT_FOUND_GRACE_MS = 2 s) and the campaign's seven.
    const client = new Cluster([{ host: "127.0.0.1", port: cluster.nodes[0]?.port as number }], {
      redisOptions: { maxRetriesPerRequest: null },
    });
    const resultsQueue = new Queue(h.config.resultsQueues[0] as string, {
      connection: client,
      prefix: "{mde}",
    });
    try {
      await waitFor("10 results on the cluster", async () => (await resultsQueue.count()) >= 10, 20_000);
    } finally {
      await resultsQueue.close();
      client.disconnect();
    }
    const results = await cli(["results", "--json"], env);
    expect(results.code).toBe(0);
    const lines = results.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const byAction = Object.fromEntries(lines.map((r) => [r.machineActionId, r.outcome]));
    expect(byAction).toMatchObject({
      [pending]: "cancelled",
      [finished]: "already_terminal",
      [unknown]: "not_found",
    });
    const status = await cli(["status", "--json"], env);
    expect(status.code).toBe(0);
    const counts = JSON.parse(status.stdout).jobs[h.config.cancelQueue];
    expect(counts).toMatchObject({ completed: 10, waiting: 0, active: 0, delayed: 0 });
    const slots = await Promise.all(
      ["{mde}:mde-cancel:wait", "{mde}:mde-cancel:rl:x:get:log", "{mde}:mde-cancel:campaign:on-cluster"].map(
        (key) => keySlot(key),
      ),
    );
    record("cluster", {
      nodes: 3,
      jobs: lines.length,
      outcomes: countBy(lines, (r) => r.outcome),
      dedup: "already_queued",
      campaign: "7/7 exit 0",
      statusCompleted: counts.completed,
      slots: [...new Set(slots)],
    });
    expect(new Set(slots).size).toBe(1);
  });
});

async function keySlot(key: string): Promise<number> {
  const client = new Cluster([{ host: "127.0.0.1", port: cluster.nodes[0]?.port as number }]);
  try {
    return Number(await client.cluster("KEYSLOT", key));
  } finally {
    client.disconnect();
  }
}
