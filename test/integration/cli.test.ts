import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collect, runCli, startCli } from "../support/cli.js";
import { type Harness, SECRET, startHarness } from "../support/harness.js";
import { startRedisGate } from "../support/redis-gate.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ID = "5382f7ea-7557-4ab7-9782-d50480024a4e";

describe("mde-cancel enqueue", () => {
  it("enqueues, then reports the existing job for an action already queued", async () => {
    h = await startHarness();
    const first = await runCli(["enqueue", ID, "--comment", "stop"], h.env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const [jobId, status, actionId] = first.stdout.trim().split("\t");
    expect(status).toBe("added");
    expect(actionId).toBe(ID);
    const again = await runCli(["enqueue", ID.toUpperCase(), "--comment", "stop", "--json"], h.env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ jobId, added: false, status: "already_queued" });
    const job = await h.cancelQueue.getJob(jobId as string);
    expect(job?.data).toMatchObject({ machineActionId: ID, comment: "stop" });
    expect(job?.opts.priority ?? 0).toBe(0);
  });

  it("reports a campaign's waiting job it made urgent as promoted, in text and JSON", async () => {
    h = await startHarness();
    const other = "6482f7ea-7557-4ab7-9782-d50480024a4f";
    const file = join(mkdtempSync(join(tmpdir(), "mde-ids-")), "ids.txt");
    writeFileSync(file, `${ID}\n${other}\n`);
    const campaign = await runCli(
      ["campaign", "--comment", "bulk", "--ids-file", file, "--name", "c"],
      h.env,
    );
    expect(campaign.code).toBe(0);
    const jobs = await h.cancelQueue.getJobs(["prioritized"]);
    const jobOf = (id: string) => jobs.find((j) => j.data.machineActionId === id)?.id;
    const text = await runCli(["enqueue", ID, "--comment", "now"], h.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`${jobOf(ID)}\tpromoted\t${ID}\n`);
    const json = await runCli(["enqueue", other, "--comment", "now", "--json"], h.env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      jobId: jobOf(other),
      added: false,
      promoted: true,
      status: "promoted",
    });
    expect(await h.cancelQueue.getJobCounts("prioritized", "waiting")).toEqual({
      prioritized: 0,
      waiting: 2,
    });
  });

  it("refuses the whole batch with exit 2, naming each bad id, and enqueues nothing", async () => {
    h = await startHarness();
    const run = await runCli(["enqueue", ID, "not-a-guid", "../machines/x/offboard", "--comment", "x"], {
      ...h.env,
      LOG_LEVEL: "info",
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"not-a-guid"/);
    expect(run.stderr).toMatch(/"\.\.\/machines\/x\/offboard"/);
    expect(run.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(await h.cancelQueue.count()).toBe(0);
  });

  it("refuses a bad comment, priority or tenant with exit 2", async () => {
    h = await startHarness();
    for (const args of [
      ["--comment", ""],
      ["--comment", "x".repeat(1001)],
      ["--comment", "x", "--priority", "0"],
      ["--comment", "x", "--priority", "high"],
      ["--comment", "x", "--tenant", "contoso"],
      [],
    ]) {
      const run = await runCli(["enqueue", ID, ...args], { ...h.env, LOG_LEVEL: "info" });
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).not.toContain("    at ");
    }
    expect(await h.cancelQueue.count()).toBe(0);
  });

  it("names every bad argument in one line, with exit 2, before it asks Redis", async () => {
    const run = await runCli(
      ["enqueue", ID, "not-a-guid", "--comment", " ", "--priority", "0", "--tenant", "contoso"],
      { REDIS_URL: "redis://127.0.0.1:1", AZURE_TENANT_ID: ID, LOG_LEVEL: "info" },
    );
    expect(run.code).toBe(2);
    const lines = run.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    for (const named of [
      '"not-a-guid"',
      '--priority "0"',
      '--tenant "contoso"',
      "--comment must not be empty",
    ])
      expect(lines[0]).toContain(named);
    expect(lines[0]).not.toContain(`"${ID}"`);
  });

  it("exits 2 naming a malformed variable", async () => {
    const run = await runCli(["enqueue", ID, "--comment", "x"], {
      MDE_RATE_LIMITS: "lots",
      AZURE_TENANT_ID: ID,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/MDE_RATE_LIMITS="lots"/);
  });

  it("reads .env from the working directory, under the real environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mde-env-"));
    writeFileSync(join(dir, ".env"), "WORKER_CONCURRENCY=many\nAZURE_TENANT_ID=nope\n");
    const run = await runCli(["enqueue", ID, "--comment", "x"], { AZURE_TENANT_ID: ID }, dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/WORKER_CONCURRENCY="many"/);
    expect(run.stderr).not.toMatch(/AZURE_TENANT_ID/);
  });

  it("fails within 10 s with exit 1 when Redis does not answer", async () => {
    const run = await runCli(["enqueue", ID, "--comment", "x"], {
      REDIS_URL: "redis://127.0.0.1:1",
      AZURE_TENANT_ID: ID,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1.* did not answer/);
    expect(run.ms).toBeLessThan(10_000);
  });
});

describe("mde-cancel worker", () => {
  it("refuses to start without credentials (exit 2), and without Redis (exit 1)", async () => {
    const missing = await runCli(["worker"], { AZURE_TENANT_ID: ID });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/AZURE_CLIENT_ID/);
    const noRedis = await runCli(["worker"], {
      REDIS_URL: "redis://127.0.0.1:1",
      AZURE_TENANT_ID: ID,
      AZURE_CLIENT_ID: ID,
      AZURE_CLIENT_SECRET: "x",
    });
    expect(noRedis.code).toBe(1);
    expect(noRedis.ms).toBeLessThan(10_000);
    expect(noRedis.stdout + noRedis.stderr).not.toContain("x\n");
  });

  it("stops on SIGTERM with exit 0, putting back a job it could not finish in time", async () => {
    h = await startHarness({
      sim: { latencyMs: 0 },
      env: { SHUTDOWN_TIMEOUT_MS: "300", HTTP_TIMEOUT_MS: "10000" },
    });
    const harness = h;
    const id = harness.sim.store.add({ status: "Pending" }).id;
    // The state check hangs long enough that the job is still in flight when the worker is told to stop.
    harness.sim.injectFault({ endpoint: "get", delayMs: 5_000 });
    const child = startCli(["worker"], harness.env);
    const exited = collect(child);
    await harness.enqueue([{ machineActionId: id, comment: "x" }]);
    await waitFor("the slow GET to arrive", () => harness.sim.requestCount("get") === 1);
    child.kill("SIGTERM");
    const run = await exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("worker stopped");
    expect(run.stdout).not.toContain(SECRET);
    // Not lost: back in Redis, delayed, and finished by the next worker.
    expect(await harness.cancelQueue.getJobCounts("delayed", "wait", "active")).toMatchObject({ active: 0 });
    await harness.startWorker();
    const [result] = await harness.results(1);
    expect(result?.outcome).toBe("cancelled");
  });

  it("keeps a SIGTERM that comes while it starts, and stops cleanly once it runs", async () => {
    h = await startHarness();
    const gate = await startRedisGate();
    try {
      const child = startCli(["worker"], { ...h.env, REDIS_URL: gate.url });
      const exited = collect(child);
      // Redis has not answered yet: the worker is inside its first await.
      await waitFor("the worker to reach Redis", () => gate.held() > 0);
      child.kill("SIGTERM");
      gate.open();
      const run = await exited;
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/"signal":"SIGTERM".*"signal received"/);
      expect(run.stdout).toContain("worker stopped");
    } finally {
      await gate.close();
    }
  });

  it("shares the budget: three worker processes never make Defender answer 429", async () => {
    const limits = "8/1s,20/4s"; // the same budget the simulator enforces
    h = await startHarness({
      sim: {
        rateLimits: [
          { limit: 8, windowMs: 1_000 },
          { limit: 20, windowMs: 4_000 },
        ],
      },
      env: { MDE_RATE_LIMITS: limits },
    });
    const harness = h;
    const ids = Array.from({ length: 30 }, () => harness.sim.store.add({ status: "Pending" }).id);
    const workers = [0, 1, 2].map(() => startCli(["worker"], harness.env));
    const exits = workers.map((w) => collect(w));
    try {
      await harness.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "bulk" })));
      const results = await harness.results(30, 60_000);
      expect(results.every((r) => r.outcome === "cancelled")).toBe(true);
      expect(harness.sim.requests.filter((r) => r.status === 429)).toHaveLength(0);
    } finally {
      for (const w of workers) w.kill("SIGTERM");
      const runs = await Promise.all(exits);
      expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    }
  });
});
