import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";

const prefixes: string[] = [];
afterEach(async () => {
  for (const p of prefixes.splice(0)) await deleteKeys(p);
});

describe("mde-cancel demo (the README's first command)", () => {
  it("cancels a mixed campaign on the simulator and explains what happened", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const run = await runCli(["demo", "--actions", "60"], { REDIS_URL, QUEUE_PREFIX: prefix });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Campaign \S+: 60 actions enqueued/);
    expect(run.stdout).toMatch(/cancelled\s+[1-9]\d*/);
    expect(run.stdout).toMatch(/already_terminal\s+[1-9]\d*/);
    expect(run.stdout).toMatch(/not_found\s+5/);
    expect(run.stdout).toMatch(/failed\s+0/);
    expect(run.stdout).toMatch(/total\s+60/);
    expect(run.stdout).toMatch(/429s absorbed/);
    expect(run.ms).toBeLessThan(60_000);
  });

  it("with --tenants 2, shows the other tenant's urgent cancel and campaign while tenant-1's drains", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const run = await runCli(["demo", "--actions", "60", "--workers", "1", "--tenants", "2"], {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/total\s+60/);
    expect(run.stdout).toMatch(/Fairness: the other tenants, while tenant-1 drained its campaign/);
    expect(run.stdout).toMatch(/tenant-2\s+urgent cancel\s+[\d.]+ s\s+campaign of 60\s+[\d.]+ s/);
  });

  it("starts a private redis-server when none answers at REDIS_URL", async () => {
    const run = await runCli(["demo", "--actions", "20", "--workers", "1"], {
      REDIS_URL: "redis://127.0.0.1:1",
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/started redis-server on port \d+ for this demo/);
    expect(run.stdout).toMatch(/total\s+20/);
  });

  it("says how to get Redis when there is none and redis-server is not installed", async () => {
    const run = await runCli(["demo"], { REDIS_URL: "redis://127.0.0.1:1", PATH: "/nonexistent" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/apt-get install redis-server.*docker compose up -d redis/);
  });
});
