import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Job, Queue } from "bullmq";
import { expect } from "vitest";
import type { CancelResult } from "../../../shared/contract/cancel-result.js";
import type { Simulator } from "../../../sim/server.js";
import { SECRET } from "../../support/harness.js";

/** Every log line, CLI output and result text this test file produced, for the secrets scan. */
const produced: string[] = [];

export function track(...texts: string[]): void {
  produced.push(...texts.filter(Boolean));
}

/**
 * The contract's security point: neither the client secret nor any token the simulator issued
 * appears in anything the product wrote. Returns how many texts and tokens were checked.
 */
export function expectNoSecrets(sim: Simulator, more: string[] = []): { texts: number; tokens: number } {
  const texts = [...produced, ...more];
  const tokens = sim.issuedTokens();
  const needles = [SECRET, ...tokens];
  const leaks = texts.filter((t) => needles.some((n) => t.includes(n)));
  expect(leaks.map((l) => l.slice(0, 200))).toEqual([]);
  // Parts of a token (its signature-less body) must not leak either.
  for (const token of tokens) {
    const body = token.split(".")[1] as string;
    expect(texts.some((t) => t.includes(body))).toBe(false);
  }
  produced.length = 0;
  return { texts: texts.length, tokens: tokens.length };
}

/** Figures for docs/reliability.md: appended to .cache/reliability/figures.jsonl and printed. */
export function record(scenario: string, figures: Record<string, unknown>): void {
  const dir = join(import.meta.dirname, "..", "..", "..", ".cache", "reliability");
  mkdirSync(dir, { recursive: true });
  const line = JSON.stringify({ scenario, at: new Date().toISOString(), ...figures });
  appendFileSync(join(dir, "figures.jsonl"), `${line}\n`);
  console.log(line);
}

/** Results on a results queue, and how many jobIds occur more than once. */
export async function resultTally(
  resultsQueue: Queue,
): Promise<{ results: CancelResult[]; duplicates: number }> {
  const jobs: Job[] = await resultsQueue.getJobs(["waiting", "active", "completed", "failed", "delayed"]);
  const results = jobs.map((j) => j.data as CancelResult);
  track(...results.map((r) => JSON.stringify(r)));
  const seen = new Map<string, number>();
  for (const r of results) seen.set(r.jobId, (seen.get(r.jobId) ?? 0) + 1);
  return { results, duplicates: [...seen.values()].filter((n) => n > 1).length };
}

/** Waits-free count of the finished cancel jobs whose return value is their own result. */
export async function returnValues(cancelQueue: Queue): Promise<Map<string, CancelResult>> {
  const jobs: Job[] = await cancelQueue.getJobs(["completed"]);
  const byId = new Map<string, CancelResult>();
  for (const job of jobs) {
    const value = job.returnvalue as CancelResult | null;
    if (value) byId.set(String(job.id), value);
  }
  return byId;
}

/**
 * POST cancels per action id that reached Defender's logic (answers made up by an injected or
 * random fault are left out: a retry after a 429 is not a second cancel); `doubled` lists the
 * actions that got more than one.
 */
export function cancelsPerAction(sim: Simulator): { total: number; doubled: string[] } {
  const counts = new Map<string, number>();
  for (const r of sim.requests) {
    if (r.endpoint !== "cancel" || r.fault) continue;
    counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
  }
  return {
    total: [...counts.values()].reduce((a, b) => a + b, 0),
    doubled: [...counts.entries()].filter(([, n]) => n > 1).map(([path]) => path),
  };
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
