import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { collect, startCli } from "../support/cli.js";
import { CLIENT, type Harness, startHarness, TENANT } from "../support/harness.js";
import { uniquePrefix } from "../support/redis.js";
import { type RedisServer, redisServer } from "../support/redis-server.js";
import { waitFor } from "../support/wait.js";

/** Issue 12, hole 8: a worker whose start fails late still exits; a slow Entra ID does not hold a shutdown. */

let h: Harness | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  await h?.close();
  await redis?.kill();
  h = redis = undefined;
});

describe("worker startup and shutdown edges", () => {
  it("exits 1 naming Redis when the start fails after the metrics server and Redis opened", async () => {
    // Room for the worker's connection and the operations one, not for BullMQ's blocking one:
    // the start fails at the last step, with the metrics server already listening.
    redis = await redisServer(["--maxclients", "2", "--save", "", "--appendonly", "no"]);
    const metricsPort = await freePort();
    const child = startCli(["worker"], {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniquePrefix(),
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_SECRET: "unused-here",
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    });
    const done = collect(child);
    // Far longer than the start takes even on a busy machine; a hung process never gets there.
    const exited = await Promise.race([
      done,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 45_000).unref()),
    ]);
    if (!exited) child.kill("SIGKILL");
    expect(exited, "the worker is still running after its start failed").toBeDefined();
    expect(exited?.stdout).toMatch(/operations endpoints listening/);
    expect(exited?.code).toBe(1);
    expect(exited?.stderr.trim()).toMatch(
      /^mde-cancel: the worker could not get ready on Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(.+\); check REDIS_URL and that Redis accepts more clients \(maxclients\)\.$/,
    );
  });

  it("a token request in flight does not hold the shutdown past SHUTDOWN_TIMEOUT_MS; its job is put back", async () => {
    h = await startHarness({ env: { SHUTDOWN_TIMEOUT_MS: "1000", HTTP_TIMEOUT_MS: "60000" } });
    // Entra ID takes 40 s to answer the first token request (the worker's own, at start, which the job joins).
    h.sim.injectFault({ endpoint: "token", delayMs: 40_000 });
    const running = await h.startWorker();
    const id = h.sim.store.add({ status: "Pending" }).id;
    const [added] = await h.enqueue([{ machineActionId: id, comment: "slow token" }]);
    await waitFor(
      "the job to wait for its token",
      async () => (await h?.cancelQueue.getActiveCount()) === 1 && h?.sim.tokenRequests() === 1,
    );
    const started = Date.now();
    await running.stop();
    const stopMs = Date.now() - started;
    expect(stopMs).toBeLessThan(20_000);
    const job = await h.cancelQueue.getJob(added?.jobId as string);
    expect(await job?.getState()).toBe("delayed");
    expect(await h.resultsQueue.count()).toBe(0);
    expect(h.sim.requests.filter((r) => ["get", "list", "cancel"].includes(r.endpoint))).toHaveLength(0);
  });
});
