import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { listeningPorts } from "../support/listening-ports.js";
import { sample } from "../support/prom-sample.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

const simCount = (endpoint: string, status: number) =>
  h.sim.requests.filter((r) => r.endpoint === endpoint && r.status === status).length;

describe("worker /metrics", () => {
  it("counts outcomes, exchanges by endpoint and status, 429s, and reads queue, budget and tokens on scrape", async () => {
    const port = await freePort();
    h = await startHarness({ env: { METRICS_PORT: String(port), METRICS_HOST: "127.0.0.1" } });
    const pending = h.sim.store.add({ status: "Pending" }).id;
    const done = h.sim.store.add({ status: "Succeeded" }).id;
    h.sim.injectFault({ endpoint: "get", status: 429, headers: { "Retry-After": "1" } });
    const running = await h.startWorker();
    expect(running.httpPort).toBe(port);
    await h.enqueue([pending, done].map((machineActionId) => ({ machineActionId, comment: "stop" })));
    await h.results(2);

    const text = await scrape(port);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="cancelled"}')).toBe(1);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="already_terminal"}')).toBe(1);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="failed"}')).toBe(0);
    // Every exchange the simulator saw is counted, and nothing else.
    expect(simCount("get", 429)).toBe(1);
    expect(sample(text, 'mde_api_requests_total{endpoint="get",status="429"}')).toBe(1);
    expect(sample(text, 'mde_api_requests_total{endpoint="get",status="200"}')).toBe(simCount("get", 200));
    expect(sample(text, 'mde_api_requests_total{endpoint="cancel",status="200"}')).toBe(1);
    expect(sample(text, 'mde_api_throttled_total{endpoint="get"}')).toBe(1);
    expect(sample(text, 'mde_api_throttled_total{endpoint="cancel"}')).toBe(0);
    expect(sample(text, 'mde_cancel_job_delays_total{reason="throttled"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, "mde_cancel_job_duration_seconds_count")).toBe(2);
    expect(sample(text, 'mde_cancel_job_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(sample(text, "mde_cancel_job_latency_seconds_count")).toBe(2);
    expect(sample(text, "mde_tokens_acquired_total")).toBe(h.sim.tokenRequests());
    expect(sample(text, "mde_redis_up")).toBe(1);
    expect(sample(text, 'mde_cancel_queue_jobs{state="completed"}')).toBe(2);
    expect(sample(text, 'mde_cancel_queue_jobs{state="waiting"}')).toBe(0);
    expect(sample(text, "mde_cancel_queue_oldest_waiting_seconds")).toBe(0);
    // The limiter counts every GET that took budget; the default window is 100 a minute.
    const gets = h.sim.requests.filter((r) => r.endpoint === "get").length;
    expect(sample(text, `mde_rate_limit_budget_left{tenant="${TENANT}",endpoint="get",window="1m"}`)).toBe(
      100 - gets,
    );
    expect(sample(text, `mde_rate_limit_budget_left{tenant="${TENANT}",endpoint="list",window="1h"}`)).toBe(
      1500,
    );
    expect(sample(text, `mde_rate_limit_paused_seconds{tenant="${TENANT}",endpoint="cancel"}`)).toBe(0);
    expect(text).toContain("# TYPE mde_rate_limit_wait_seconds_total counter");
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_heap_size_used_bytes");
  });

  it("adds up the time jobs waited for rate-limit budget", async () => {
    const port = await freePort();
    // One GET per check (no batching), so each of the three jobs needs its own call.
    h = await startHarness({
      env: { METRICS_PORT: String(port), MDE_RATE_LIMITS: "1/1s", CHECK_GATHER_MS: "0" },
    });
    const ids = [1, 2, 3].map(() => h.sim.store.add({ status: "Succeeded" }).id);
    await h.startWorker();
    await h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "stop" })));
    await h.results(3);
    const text = await scrape(port);
    expect(sample(text, 'mde_cancel_jobs_total{outcome="already_terminal"}')).toBe(3);
    // Three GETs through a budget of one a second: at least two jobs had to wait.
    expect(sample(text, 'mde_cancel_job_delays_total{reason="budget"}')).toBeGreaterThanOrEqual(2);
    expect(sample(text, "mde_rate_limit_wait_seconds_total")).toBeGreaterThan(0.5);
  });

  it("serves /healthz and /readyz, 404s unknown paths, and refuses writes", async () => {
    const port = await freePort();
    h = await startHarness({ env: { METRICS_PORT: String(port) } });
    const running = await h.startWorker();
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
    await running.stop();
    // Stopped means closed: the port no longer answers.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it("opens no port when METRICS_PORT is 0", async () => {
    h = await startHarness({ env: { METRICS_PORT: "0" } });
    // The simulator listens in this process too: only a socket the worker adds counts.
    const before = listeningPorts();
    expect(before.size).toBeGreaterThan(0); // the probe sees sockets at all
    const running = await h.startWorker();
    expect(running.httpPort).toBeUndefined();
    expect(listeningPorts()).toEqual(before);
  });
});
