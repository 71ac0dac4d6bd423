import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { type Harness, startHarness } from "../support/harness.js";
import { expectNoSecrets, record, track } from "./support/evidence.js";
import { hostileEnqueueArgs } from "./support/hostile.js";

let h: Harness | undefined;
afterEach(async () => {
  if (h) expectNoSecrets(h.sim, h.logs);
  await h?.close();
  h = undefined;
});

/** A fresh seed each run, printed with any failure so it can be replayed (RELIABILITY_SEED=...). */
const SEED = Number(process.env.RELIABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CLI_RUNS = 30;

describe("hostile input: fuzzed CLI arguments", () => {
  it("exits 2 on fuzzed enqueue arguments and enqueues nothing", async () => {
    h = await startHarness({ env: { LOG_LEVEL: "info" } });
    const cases = fc.sample(hostileEnqueueArgs, { numRuns: CLI_RUNS, seed: SEED });
    const runs: { args: string[]; code: number | null; stderr: string }[] = [];
    for (let i = 0; i < cases.length; i += 3) {
      const batch = cases.slice(i, i + 3);
      const done = await Promise.all(batch.map((args) => runCli(["enqueue", ...args], h?.env ?? {})));
      done.forEach((run, j) => {
        track(run.stdout, run.stderr);
        runs.push({ args: batch[j] as string[], code: run.code, stderr: run.stderr });
      });
    }
    const bad = runs.filter((r) => r.code !== 2 || r.stderr.includes("    at ") || r.stderr.trim() === "");
    const queued = await h.cancelQueue.count();
    record("hostile-cli", {
      seed: SEED,
      runs: runs.length,
      exit2: runs.filter((r) => r.code === 2).length,
      queued,
    });
    expect(
      bad.map((r) => ({
        args: r.args.map((a) => a.slice(0, 80)),
        code: r.code,
        stderr: r.stderr.slice(0, 200),
      })),
      `seed ${SEED}`,
    ).toEqual([]);
    expect(queued).toBe(0);
  });
});
