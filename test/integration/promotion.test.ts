import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { Producer } from "../../jobs/producer.js";
import { delayedOnlyForBudget } from "../../jobs/promote-job.js";
import type { ActionStatus } from "../../sim/machine-action.js";
import type { JobState } from "../../worker/job-state.js";
import { type Harness, startHarness, TENANT } from "../support/harness.js";
import { REDIS_URL } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
let producer: Producer | undefined;
afterEach(async () => {
  await producer?.close();
  await h?.close();
  producer = undefined;
  h = undefined;
});

/** A harness on a tight budget (4 calls a second, half of it for campaigns) and a producer on it. */
async function tightBudget(): Promise<{ h: Harness; producer: Producer }> {
  h = await startHarness({
    sim: { rateLimits: [{ limit: 4, windowMs: 1_000 }] },
    env: { MDE_RATE_LIMITS: "4/1s", CAMPAIGN_BUDGET_SHARE: "0.5", LOG_LEVEL: "info" },
  });
  producer = await Producer.open(h.config);
  return { h, producer };
}

const add = (n: number, status: ActionStatus = "Pending") =>
  Array.from({ length: n }, () => (h as Harness).sim.store.add({ status, type: "Isolate" }).id);

function campaign(ids: string[], name: string) {
  return (producer as Producer).startCampaign({
    tenantId: TENANT,
    source: { ids, label: "test" },
    comment: "bulk",
    campaignId: name,
  });
}

/** Of these delayed jobs, the one the delayed set wakes last (its score: due time * 4096 + a counter). */
async function dueLast(h: Harness, jobs: Job[]): Promise<Job> {
  const redis = new Redis(REDIS_URL);
  try {
    const delayed = h.cancelQueue.keys.delayed as string;
    const scores = await Promise.all(
      jobs.map(async (j) => Number(await redis.zscore(delayed, j.id as string))),
    );
    return jobs[scores.indexOf(Math.max(...scores))] as Job;
  } finally {
    redis.disconnect();
  }
}

const delayedFor = (job: Job) => (job.progress as JobState | undefined)?.delayedFor;

describe("an urgent enqueue of an action a campaign holds", () => {
  it("promotes the campaign's job out of a wait for campaign budget: it overtakes the campaign", async () => {
    const { h, producer } = await tightBudget();
    const ids = add(16);
    await campaign(ids, "drain");
    await h.startWorker();
    // The campaign may use 2 calls a second: its pace (at enqueue) or the worker (a refused run)
    // keeps most of its jobs delayed for campaign budget.
    const sleeping = await waitFor("campaign jobs delayed for campaign budget", async () => {
      const jobs = (await h.cancelQueue.getJobs(["delayed"])).filter(delayedOnlyForBudget);
      return jobs.length >= 8 ? jobs : undefined;
    });
    // The one due last: every other unfinished campaign job is ahead of it.
    const last = await dueLast(h, sleeping);
    const held = last.data.machineActionId as string;
    const [fresh] = add(1) as [string];

    const [promoted, added] = await producer.enqueue([
      { machineActionId: held, comment: "now" },
      { machineActionId: fresh, comment: "now" },
    ]);
    expect(promoted).toMatchObject({ jobId: last.id, added: false, promoted: true });
    expect(added).toMatchObject({ added: true, promoted: false });
    const unfinished = await h.cancelQueue.getJobs(["waiting", "prioritized", "delayed", "active"]);
    const ahead = unfinished.filter((j) => j.data.campaignId === "drain" && j.id !== last.id);
    expect(ahead.length).toBeGreaterThan(8);

    const results = await h.results(17, 90_000);
    const finishedAt = (jobId: string) => {
      const result = results.find((r) => r.jobId === jobId);
      return Date.parse(result?.finishedAt as string);
    };
    const mine = results.find((r) => r.jobId === last.id);
    expect(mine).toMatchObject({ outcome: "cancelled", campaignId: "drain", machineActionId: held });
    const freshDone = finishedAt(added?.jobId as string);
    const finishingAfter = (t: number) => ahead.filter((j) => finishedAt(j.id as string) > t).length;
    // It finishes as a fresh urgent cancel does: before the campaign jobs that were ahead of it.
    expect(finishingAfter(finishedAt(last.id as string))).toBeGreaterThanOrEqual(ahead.length - 2);
    expect(finishingAfter(freshDone)).toBeGreaterThanOrEqual(ahead.length - 2);
    // Still the campaign's: its record counts it.
    expect(await producer.campaign("drain")).toMatchObject({ total: 16, done: 16 });
  });

  it("promotes a job its campaign's pace delayed at enqueue: the delay ends at once", async () => {
    const { h, producer } = await tightBudget();
    const ids = add(4);
    await campaign(ids, "paced");
    // 2 campaign calls a second: two jobs may run now, the others are due a slot (500 ms) apart.
    expect(await h.cancelQueue.getJobCounts("prioritized", "delayed")).toEqual({
      prioritized: 2,
      delayed: 2,
    });
    const last = await dueLast(h, await h.cancelQueue.getJobs(["delayed"]));
    const urgent = await producer.enqueue([{ machineActionId: last.data.machineActionId, comment: "now" }]);
    expect(urgent).toMatchObject([{ jobId: last.id, added: false, promoted: true }]);
    expect(await h.cancelQueue.getJobState(last.id as string)).toBe("waiting");
    expect(Number((await h.cancelQueue.getJob(last.id as string))?.priority)).toBe(0);
  });

  it("promotes a job waiting in the prioritized set, once, and only for an enqueue without a priority", async () => {
    const { h, producer } = await tightBudget();
    const [held] = add(1) as [string];
    await campaign([held], "waits");
    const [job] = await h.cancelQueue.getJobs(["prioritized"]);
    const prioritized = await producer.enqueue([{ machineActionId: held, comment: "later" }], {
      priority: 5,
    });
    expect(prioritized).toMatchObject([{ jobId: job?.id, added: false, promoted: false }]);
    expect(await h.cancelQueue.getJobState(job?.id as string)).toBe("prioritized");

    const urgent = await producer.enqueue([{ machineActionId: held, comment: "now" }]);
    expect(urgent).toMatchObject([{ jobId: job?.id, added: false, promoted: true }]);
    const after = await h.cancelQueue.getJob(job?.id as string);
    expect(await after?.getState()).toBe("waiting");
    expect(Number(after?.priority)).toBe(0);
    expect(after?.data).toEqual(job?.data); // the campaign's job still: same data, same campaignId
    const again = await producer.enqueue([{ machineActionId: held, comment: "now" }]);
    expect(again).toMatchObject([{ jobId: job?.id, added: false, promoted: false }]);
  });

  it("keeps a delay for a 429 pause, removing only the priority", async () => {
    const { h, producer } = await tightBudget();
    h.sim.injectFault({ endpoint: "cancel", status: 429, headers: { "Retry-After": "120" } });
    const [held] = add(1) as [string];
    await campaign([held], "paused");
    await h.startWorker();
    const [job] = await waitFor("the job delayed by the 429", async () => {
      const jobs = await h.cancelQueue.getJobs(["delayed"]);
      return jobs.some((j) => delayedFor(j) === "throttled") ? jobs : undefined;
    });
    const redis = new Redis(REDIS_URL);
    const due = () => redis.zscore(h.cancelQueue.keys.delayed as string, job?.id as string);
    try {
      const before = await due();
      const urgent = await producer.enqueue([{ machineActionId: held, comment: "now" }]);
      expect(urgent).toMatchObject([{ jobId: job?.id, added: false, promoted: true }]);
      expect(await h.cancelQueue.getJobState(job?.id as string)).toBe("delayed");
      expect(await due()).toBe(before);
      expect(Number((await h.cancelQueue.getJob(job?.id as string))?.priority)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
