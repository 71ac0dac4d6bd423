/**
 * A Redis that stops answering after a command connected (SIGSTOP, a cut network) must not hang
 * it: every producer command exits 1 within 15 s of the freeze, with one line naming Redis.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CliRun, collect, startCli } from "../support/cli.js";
import { newActionId, TENANT } from "../support/harness.js";
import { uniquePrefix } from "../support/redis.js";
import { type RedisGate, startRedisGate } from "../support/redis-gate.js";
import { type RedisServer, redisServer } from "../support/redis-server.js";
import { waitFor } from "../support/wait.js";

/** The contract's bound, from the moment Redis froze to the command's exit. */
const BOUND_MS = 15_000;

let gate: RedisGate | undefined;
let server: RedisServer | undefined;
afterEach(async () => {
  await gate?.close();
  server?.resume();
  await server?.kill();
  gate = server = undefined;
});

function idsFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), "mde-ids-")), "ids.txt");
  writeFileSync(path, `${newActionId()}\n${newActionId()}\n`);
  return path;
}

const env = (url: string) => ({
  REDIS_URL: url,
  QUEUE_PREFIX: uniquePrefix(),
  AZURE_TENANT_ID: TENANT,
  LOG_LEVEL: "info",
});

/** Runs the command; `frozen` resolves once Redis froze under it. Fails, rather than hangs, past the bound. */
async function runFrozen(
  args: string[],
  url: string,
  frozen: (stderr: () => string) => Promise<unknown>,
): Promise<CliRun> {
  const child = startCli(args, env(url));
  const exited = collect(child);
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  await frozen(() => stderr);
  const frozeAt = Date.now();
  const killer = setTimeout(() => child.kill("SIGKILL"), BOUND_MS + 10_000);
  const run = await exited;
  clearTimeout(killer);
  return { ...run, ms: Date.now() - frozeAt };
}

function expectOneLineNamingRedis(run: CliRun) {
  expect(run.code, run.stderr).toBe(1);
  expect(run.ms).toBeLessThan(BOUND_MS);
  const errors = run.stderr.split("\n").filter((line) => line.startsWith("mde-cancel:"));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^mde-cancel: Redis at redis:\/\/127\.0\.0\.1:\d+\/? stopped answering/);
  expect(run.stderr).not.toContain("unexpected error");
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe("a Redis that freezes after the command connected", () => {
  for (const args of [
    ["enqueue", newActionId(), "--comment", "x"],
    ["status"],
    ["results"],
    ["results", "--follow"],
    ["campaign", "--comment", "x", "--ids-file", "IDS"],
    ["campaign", "--abort", "some-campaign"],
  ]) {
    it(`${args.slice(0, 2).join(" ")} exits 1 within 15 s with one line naming Redis`, async () => {
      gate = await startRedisGate();
      // Everything up to connectRedis's PONG passes; then nothing more, either way.
      gate.freezeAfter("PONG");
      const frozenGate = gate;
      const run = await runFrozen(
        args.map((a) => (a === "IDS" ? idsFile() : a)),
        frozenGate.url,
        () => waitFor("the command to connect", () => frozenGate.frozen() > 0),
      );
      expectOneLineNamingRedis(run);
    });
  }

  it("campaign --wait exits 1 within 15 s when Redis is stopped (SIGSTOP) while it waits", async () => {
    server = await redisServer(["--save", "", "--appendonly", "no"]);
    const redis = server;
    const run = await runFrozen(
      ["campaign", "--comment", "x", "--ids-file", idsFile(), "--wait"],
      redis.url,
      async (stderr) => {
        await waitFor("the first progress line", () => stderr().includes("progress 0/2"));
        redis.freeze();
      },
    );
    expectOneLineNamingRedis(run);
  });
});
