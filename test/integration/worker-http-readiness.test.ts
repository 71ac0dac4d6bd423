import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { type Harness, startHarness } from "../support/harness.js";
import { type RedisServer, redisServer } from "../support/redis-server.js";
import { waitFor } from "../support/wait.js";

/**
 * Readiness follows Redis. The shared Redis on 6379 serves the other tests, so this one runs a
 * private redis-server it can kill and restart.
 */

let h: Harness | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  // Redis back first, so the worker can close cleanly even when the test failed mid-outage.
  if (redis && !redis.running) await redis.start();
  await h?.close();
  await redis?.kill();
  h = redis = undefined;
});

async function probe(base: string, path: string): Promise<{ status: number; body: { reason?: string } }> {
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as { reason?: string } };
}

describe("worker /readyz", () => {
  it("turns 503 when Redis goes away and 200 when it returns, while /healthz stays 200", async () => {
    redis = await redisServer(["--save", "", "--appendonly", "no"]);
    const httpPort = await freePort();
    h = await startHarness({
      env: {
        REDIS_URL: redis.url,
        METRICS_PORT: String(httpPort),
        SHUTDOWN_TIMEOUT_MS: "1000",
      },
    });
    await h.startWorker();
    const base = `http://127.0.0.1:${httpPort}`;
    expect((await probe(base, "/readyz")).status).toBe(200);
    expect((await probe(base, "/healthz")).status).toBe(200);

    await redis.kill();
    const down = await waitFor("/readyz to answer 503", async () => {
      const answer = await probe(base, "/readyz");
      return answer.status === 503 ? answer : undefined;
    });
    expect(down.body.reason).toMatch(/^Redis did not answer PING/);
    expect((await probe(base, "/healthz")).status).toBe(200);
    // A scrape during the outage still answers, and says Redis is down.
    const metrics = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^mde_redis_up 0$/m);

    await redis.start();
    await waitFor("/readyz to answer 200 again", async () => (await probe(base, "/readyz")).status === 200);
    expect((await probe(base, "/healthz")).status).toBe(200);
  });

  it("answers 503 while the worker shuts down", async () => {
    const httpPort = await freePort();
    const harness = await startHarness({ env: { METRICS_PORT: String(httpPort) } });
    h = harness;
    const running = await harness.startWorker();
    const base = `http://127.0.0.1:${httpPort}`;
    expect((await probe(base, "/readyz")).status).toBe(200);
    // Hold the worker in its drain by keeping one job in flight behind a slow Defender answer.
    const id = harness.sim.store.add({ status: "Pending" }).id;
    harness.sim.injectFault({ endpoint: "get", delayMs: 1_500 });
    await harness.enqueue([{ machineActionId: id, comment: "slow" }]);
    await waitFor("the job to be active", async () => (await harness.cancelQueue.getActiveCount()) === 1);
    const stopped = running.stop();
    const answer = await probe(base, "/readyz");
    expect(answer).toEqual({
      status: 503,
      body: { status: "not ready", reason: "the worker is shutting down" },
    });
    await stopped;
  });
});
