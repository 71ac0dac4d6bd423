import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import type { ActionStatus } from "../../sim/machine-action.js";
import { collect, runCli, startCli } from "../support/cli.js";
import { type Harness, newActionId, startHarness } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function idsFile(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "mde-ids-")), "ids.txt");
  writeFileSync(path, lines.join("\n"));
  return path;
}
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { ...h.env, LOG_LEVEL: "info", ...env });
const add = (n: number, status: ActionStatus = "Pending", type = "Isolate") =>
  Array.from({ length: n }, () => h.sim.store.add({ status, type }).id);

describe("mde-cancel campaign --ids-file", () => {
  it("waits for every outcome and exits 0 when none failed", async () => {
    h = await startHarness();
    const pending = add(4);
    const finished = add(2, "Succeeded");
    await h.startWorker();
    const file = idsFile([
      "# clean-up",
      ...pending.map((i) => i.toUpperCase()),
      "",
      ...finished,
      pending[0] as string,
    ]);
    const run = await cli([
      "campaign",
      "--comment",
      "clean-up",
      "--ids-file",
      file,
      "--name",
      "nov-29",
      "--wait",
      "--json",
    ]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1) as string);
    expect(summary).toMatchObject({
      campaignId: "nov-29",
      total: 6,
      done: 6,
      counts: { cancelled: 4, already_terminal: 2, not_found: 0, failed: 0 },
      failedActionIds: [],
    });
    // Plain progress lines when not on a terminal.
    expect(run.stderr).toMatch(/progress 6\/6/);
    const jobs = await h.cancelQueue.getJobs(["completed"]);
    expect(jobs.every((j) => j.data.campaignId === "nov-29" && (j.opts.priority ?? 0) > 0)).toBe(true);
  });

  it("exits 1 when some failed, and a replay of the failures finishes the campaign", async () => {
    h = await startHarness();
    const [good, bad] = add(2);
    h.sim.injectFault({ endpoint: "cancel", status: 403, match: (r) => r.path.includes(bad as string) });
    await h.startWorker();
    const first = await cli([
      "campaign",
      "--comment",
      "x",
      "--ids-file",
      idsFile([good, bad] as string[]),
      "--wait",
    ]);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/failed\s+1/);
    expect(first.stdout).toContain(bad);
    const campaignId = /Campaign (\S+)/.exec(first.stdout)?.[1] as string;

    const replay = await cli([
      "campaign",
      "--comment",
      "again",
      "--retry-failed",
      campaignId,
      "--wait",
      "--json",
    ]);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({
      campaignId,
      total: 2,
      done: 2,
      counts: { cancelled: 2, failed: 0 },
    });
    const results = await h.results(3);
    expect(
      results
        .filter((r) => r.machineActionId === bad)
        .map((r) => r.outcome)
        .sort(),
    ).toEqual(["cancelled", "failed"]);
  });

  it("refuses a file with bad lines, naming them, and enqueues nothing", async () => {
    h = await startHarness();
    const file = idsFile([newActionId(), "not-a-guid", newActionId(), "../machines/x/offboard"]);
    const run = await cli(["campaign", "--comment", "x", "--ids-file", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/line 2 \("not-a-guid"\), line 4/);
    expect(await h.cancelQueue.count()).toBe(0);
    const missing = await cli(["campaign", "--comment", "x", "--ids-file", "/nonexistent/ids.txt"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--ids-file \/nonexistent\/ids.txt cannot be read/);
  });

  it("checks every option before Redis: bad input with Redis down exits 2, naming each", async () => {
    h = await startHarness();
    const file = idsFile([newActionId()]);
    const args = ["campaign", "--comment", "", "--ids-file", file, "--name", "no spaces", "--priority", "0"];
    const run = await cli(args, { REDIS_URL: "redis://127.0.0.1:1" });
    expect(run.code).toBe(2);
    const lines = run.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    for (const named of ["--comment must not be empty", '--name "no spaces"', '--priority "0"'])
      expect(lines[0]).toContain(named);
  });

  it("enqueues 2,500 ids from one file in three chunks, each once, in the campaign's record", async () => {
    // 2,500, not the README's 20,000 (that scale is bench/run.ts's; here it took 75 s, 20 of them a
    // `status` over 20,000 jobs): two full chunks of 1,000 and a part chunk of 500 exercise every
    // path of the chunked enqueue and of the checks (25 + 25 + 13 list calls of up to 40 ids, the
    // last one part full). Limits lifted: none of the ids is known, so every job carries nothing.
    h = await startHarness({ sim: { rateLimits: [] }, env: { MDE_RATE_LIMITS: "1000000/1m" } });
    const ids = Array.from({ length: 2_500 }, () => newActionId());
    const run = await cli([
      "campaign",
      "--comment",
      "bulk",
      "--ids-file",
      idsFile(ids),
      "--name",
      "big",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ campaignId: "big", added: 2_500, alreadyQueued: [] });
    // Limits lifted (the checks go at once): the budget lets every job run now, none is paced.
    expect(await h.cancelQueue.getJobCounts("prioritized", "delayed")).toEqual({
      prioritized: 2_500,
      delayed: 0,
    });
    // Each id once: one job per id, under the campaign.
    const jobs = await h.cancelQueue.getJobs(["prioritized"]);
    expect(new Set(jobs.map((j) => j.data.machineActionId))).toEqual(new Set(ids));
    expect(h.sim.requests.filter((r) => r.endpoint === "list")).toHaveLength(63);
    const status = await cli(["status", "--json"]);
    expect(JSON.parse(status.stdout).campaigns).toEqual([
      expect.objectContaining({ id: "big", total: 2_500, done: 0 }),
    ]);
  });

  it("stops waiting on SIGTERM with exit 143, leaving the campaign to run on", async () => {
    h = await startHarness();
    const file = idsFile(add(2));
    const child = startCli(
      ["campaign", "--comment", "x", "--ids-file", file, "--name", "w", "--wait"],
      h.env,
    );
    const exited = collect(child);
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    // A hang guard: the CLI starts through tsx first (up to tens of seconds on a loaded machine).
    await waitFor("the first progress line", () => stderr.includes("progress 0/2"), 90_000);
    child.kill("SIGTERM");
    const run = await exited;
    expect(run.code).toBe(143);
    expect(run.stderr).toContain("Stopped waiting; campaign w goes on");
    expect(await h.cancelQueue.getJobCounts("prioritized")).toEqual({ prioritized: 2 });
  });

  it("stops waiting after --timeout with exit 1, saying the campaign goes on", async () => {
    h = await startHarness();
    const file = idsFile(add(2));
    const run = await cli([
      "campaign",
      "--comment",
      "x",
      "--ids-file",
      file,
      "--name",
      "t",
      "--wait",
      "--timeout",
      "2s",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Stopped waiting after 2 s (--timeout); campaign t goes on");
    expect(await h.cancelQueue.getJobCounts("prioritized")).toEqual({ prioritized: 2 });
    for (const bad of [
      ["--wait", "--timeout", "soon"],
      ["--timeout", "2s"],
    ]) {
      const refused = await cli(["campaign", "--comment", "x", "--ids-file", file, ...bad]);
      expect(refused.code, bad.join(" ")).toBe(2);
      expect(refused.stderr).toMatch(/--timeout/);
    }
    expect(await h.cancelQueue.count()).toBe(2);
  });

  it("leaves an action already queued elsewhere to its job, outside the campaign", async () => {
    h = await startHarness();
    const [queued, fresh] = add(2);
    await h.enqueue([{ machineActionId: queued as string, comment: "urgent" }]);
    const run = await cli([
      "campaign",
      "--comment",
      "x",
      "--ids-file",
      idsFile([queued, fresh] as string[]),
      "--json",
    ]);
    expect(JSON.parse(run.stdout)).toMatchObject({ added: 1, alreadyQueued: [queued] });
    await h.startWorker();
    const campaignId = JSON.parse(run.stdout).campaignId;
    const wait = await cli(["campaign", "--comment", "x", "--retry-failed", campaignId, "--wait", "--json"]);
    expect(JSON.parse(wait.stdout)).toMatchObject({ total: 1, done: 1 });
  });
});

describe("mde-cancel campaign --filter", () => {
  it("follows every nextLink page and enqueues only the non-terminal matches", async () => {
    h = await startHarness({ sim: { pageSize: 3 } });
    const pending = add(5, "Pending", "Isolate");
    const inProgress = add(2, "InProgress", "Isolate");
    add(3, "Succeeded", "Isolate");
    add(4, "Pending", "RunAntiVirusScan");
    await h.startWorker();
    const run = await cli([
      "campaign",
      "--comment",
      "x",
      "--filter",
      "type eq 'Isolate'",
      "--wait",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 7, counts: { cancelled: 7 } });
    expect(h.sim.requests.filter((r) => r.endpoint === "list")).toHaveLength(4); // 10 matches, 3 a page
    const cancelled = (await h.results(7)).map((r) => r.machineActionId).sort();
    expect(cancelled).toEqual([...pending, ...inProgress].sort());
  });

  it("refuses more than --max cancellable matches with exit 2, enqueuing nothing", async () => {
    h = await startHarness();
    add(6);
    const run = await cli(["campaign", "--comment", "x", "--filter", "status eq 'Pending'", "--max", "5"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/more than --max 5/);
    expect(await h.cancelQueue.count()).toBe(0);
  });

  it("refuses a bad comment before the filter spends any list budget", async () => {
    h = await startHarness();
    add(2);
    const run = await cli(["campaign", "--comment", " ", "--filter", "status eq 'Pending'"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--comment must not be empty/);
    expect(h.sim.requests.filter((r) => r.endpoint === "list")).toHaveLength(0);
    expect(await h.cancelQueue.count()).toBe(0);
  });

  it("dry-runs: counts by status and type, enqueues nothing", async () => {
    h = await startHarness();
    add(3, "Pending", "Isolate");
    add(2, "Succeeded", "RunAntiVirusScan");
    const run = await cli([
      "campaign",
      "--comment",
      "x",
      "--filter",
      "creationDateTimeUtc ge 2000-01-01T00:00:00Z",
      "--dry-run",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      dryRun: true,
      toEnqueue: 3,
      byStatus: { Pending: 3, Succeeded: 2 },
      byType: { Isolate: 3, RunAntiVirusScan: 2 },
    });
    expect(await h.cancelQueue.count()).toBe(0);
    // An ids file: the actions are looked up in batches through the list endpoint ($filter=id in (...)).
    const known = add(2, "Pending", "Isolate");
    const lookup = [
      "campaign",
      "--comment",
      "x",
      "--ids-file",
      idsFile([...known, newActionId()]),
      "--dry-run",
    ];
    const file = await cli([...lookup, "--json"]);
    expect(JSON.parse(file.stdout)).toMatchObject({
      toEnqueue: 3,
      byStatus: { Pending: 2, "(not found)": 1 },
      byType: { Isolate: 2 },
    });
    const plain = await cli(lookup, { AZURE_CLIENT_SECRET: "" });
    expect(plain.stdout).toMatch(/3 action\(s\) would be enqueued; nothing was/);
    expect(plain.stdout).toMatch(/Statuses not looked up/);
    expect(await h.cancelQueue.count()).toBe(0);
  });
});

describe("priority and headroom", () => {
  it("lets a playbook's single cancel overtake a campaign draining under a tight budget", async () => {
    h = await startHarness({
      sim: { rateLimits: [{ limit: 4, windowMs: 1_000 }] },
      env: { MDE_RATE_LIMITS: "4/1s", CAMPAIGN_BUDGET_SHARE: "0.5" },
    });
    const campaign = add(24);
    const run = await cli([
      "campaign",
      "--comment",
      "bulk",
      "--ids-file",
      idsFile(campaign),
      "--name",
      "drain",
    ]);
    expect(run.code).toBe(0);
    await h.startWorker();
    const urgent = add(1)[0] as string;
    await h.enqueue([{ machineActionId: urgent, comment: "now" }]);
    const results = await h.results(25, 60_000);
    const urgentResult = results.find((r) => r.machineActionId === urgent);
    expect(urgentResult?.outcome).toBe("cancelled");
    const urgentDone = Date.parse(urgentResult?.finishedAt as string);
    const campaignDone = results.filter((r) => r.campaignId === "drain").map((r) => Date.parse(r.finishedAt));
    // The campaign may use 2 calls a second; it needs about 12 s. The urgent cancel never waits for it:
    // it finishes ahead of most of the campaign (in line behind it, it would finish after all 24).
    // Counted, not timed: a busy machine slows both alike.
    expect(campaignDone).toHaveLength(24);
    expect(campaignDone.filter((at) => at > urgentDone).length).toBeGreaterThanOrEqual(16);
    // The headroom: the campaign's cancels never took more than its share (half of 4) of any 1 s window,
    // counted at arrival (a call holds its slot from admission to answer plus the window, so arrivals
    // of admitted calls are spaced like admissions). Without the share it would take all 4.
    const isCampaign = new Set(campaign);
    const arrivals = h.sim.requests
      .filter((r) => r.endpoint === "cancel" && isCampaign.has(r.path.split("/")[3] ?? ""))
      .map((r) => r.at)
      .sort((a, b) => a - b);
    expect(arrivals).toHaveLength(24);
    const busiest = Math.max(
      ...arrivals.map((at) => arrivals.filter((t) => t >= at && t < at + 1_000).length),
    );
    expect(busiest).toBeLessThanOrEqual(2);
  });
});

describe("mde-cancel results and status", () => {
  it("prints results without consuming them, filtered by campaign", async () => {
    h = await startHarness();
    const [a, b] = add(2);
    await h.startWorker();
    await cli([
      "campaign",
      "--comment",
      "x",
      "--ids-file",
      idsFile([a as string]),
      "--name",
      "one",
      "--wait",
    ]);
    await h.enqueue([{ machineActionId: b as string, comment: "y" }]);
    await h.results(2);
    const all = await cli(["results", "--json"]);
    expect(all.code).toBe(0);
    const lines = all.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((r) => r.machineActionId).sort()).toEqual([a, b].sort());
    const again = await cli(["results", "--campaign", "one", "--json"]);
    expect(
      again.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).machineActionId),
    ).toEqual([a]);
    // Nothing consumed: the results queue still holds both.
    expect(await h.resultsQueue.getJobCounts("waiting")).toEqual({ waiting: 2 });
    const text = await cli(["results"]);
    expect(text.stdout).toMatch(/cancelled\s+\S+\s+Cancelled\s+job /);
  });

  it("warns past 10,000 unconsumed results in a results queue, naming it", async () => {
    h = await startHarness({ env: { RESULTS_QUEUE: "mde-cancel-results,ticketing" } });
    // A second subscriber's queue nobody reads: 10,001 results waiting, added cheaply.
    const ticketing = new Queue("ticketing", { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      for (let i = 0; i < 10_001; i += 1_000)
        await ticketing.addBulk(
          Array.from({ length: Math.min(1_000, 10_001 - i) }, () => ({ name: "result", data: {} })),
        );
    } finally {
      await ticketing.close();
    }
    await h.enqueue([{ machineActionId: add(1)[0] as string, comment: "x" }]);
    const json = JSON.parse((await cli(["status", "--json"])).stdout);
    expect(json.warnings).toEqual([
      expect.objectContaining({
        queue: "ticketing",
        unconsumed: 10_001,
        message: expect.stringContaining("ticketing"),
      }),
    ]);
    const text = await cli(["status"]);
    expect(text.code).toBe(0);
    const warnings = text.stdout.split("\n").filter((l) => l.startsWith("warning:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /results queue ticketing holds 10,001 unconsumed results \(more than 10,000\)/,
    );
  });

  it("shows job counts, the budget left and any 429 pause", async () => {
    h = await startHarness({ env: { MDE_RATE_LIMITS: "50/1m" } });
    h.sim.injectFault({ endpoint: "cancel", status: 429, headers: { "Retry-After": "120" } });
    await h.startWorker();
    await h.enqueue([{ machineActionId: add(1)[0] as string, comment: "x" }]);
    const throttled = await waitFor("the 429", () => h.sim.requests.find((r) => r.status === 429));
    const run = await cli(["status", "--json"]);
    const status = JSON.parse(run.stdout);
    expect(status.jobs[h.config.cancelQueue]).toMatchObject({ delayed: 1 });
    const cancel = status.budget.find((b: { endpoint: string }) => b.endpoint === "cancel");
    // The 120 s pause, less however long the CLI took to start (tens of seconds on a loaded machine).
    expect(cancel.pausedForMs).toBeLessThanOrEqual(120_000);
    expect(cancel.pausedForMs).toBeGreaterThan(120_000 - (Date.now() - throttled.at) - 1_000);
    const get = status.budget.find((b: { endpoint: string }) => b.endpoint === "get");
    expect(get.windows[0]).toMatchObject({ limit: 50, used: 1, left: 49 });
    const text = await cli(["status"]);
    expect(text.stdout).toMatch(/budget \S+ cancel: .*paused by a 429 until/);
  });
});
