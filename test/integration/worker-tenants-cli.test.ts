/**
 * Tenants at the command line: SIGHUP makes `mde-cancel worker` read MDE_TENANTS_FILE again, and
 * every front door refuses a tenant the deployment does not serve with exit 2 naming it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { enqueueCancels } from "../../jobs/enqueue.js";
import { collect, runCli, startCli } from "../support/cli.js";
import { type Harness, newActionId } from "../support/harness.js";
import { HEALTHY, SOVEREIGN, startTenantsHarness, writeTenantsFile } from "../support/tenants.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A job added by a producer outside the project, naming its tenant by name. */
const foreignJob = (harness: Harness, tenantId: string, machineActionId: string) =>
  enqueueCancels(harness.cancelQueue, [{ machineActionId, comment: "x", tenantId }], {});

describe("mde-cancel worker and SIGHUP", () => {
  it("serves a tenant added to the file without a restart, and keeps the previous tenants when the file turns bad", async () => {
    const { harness, file, entries } = await startTenantsHarness();
    h = harness;
    const { healthy, sovereign } = entries;
    writeTenantsFile(file, [healthy]);
    const worker = startCli(["worker"], { ...harness.env, LOG_LEVEL: "info", METRICS_PORT: "0" });
    let out = "";
    worker.stdout?.on("data", (chunk) => {
      out += chunk;
    });
    const exited = collect(worker);
    const logged = (needle: string) =>
      waitFor(`the worker to log ${needle}`, () => out.includes(needle), 30_000);
    const sovereignAction = () =>
      harness.sim.tenant("sovereign")?.store.add({ status: "Pending" }).id as string;
    try {
      await logged('"msg":"worker started"');
      // Not served yet: a job for it fails unknown_tenant.
      await foreignJob(harness, "sovereign", sovereignAction());
      const [before] = await harness.results(1);
      expect(before).toMatchObject({ outcome: "failed", error: { code: "unknown_tenant" } });

      writeTenantsFile(file, [healthy, sovereign]);
      worker.kill("SIGHUP");
      await logged('"msg":"tenants reloaded"');
      const reloaded = JSON.parse(out.split("\n").find((l) => l.includes('"tenants reloaded"')) as string);
      expect(reloaded).toMatchObject({ tenants: 2, added: ["sovereign"], removed: [], changed: [] });
      await foreignJob(harness, "sovereign", sovereignAction());
      const afterReload = (await harness.results(2)).find((r) => r.tenantId === SOVEREIGN);
      expect(afterReload?.outcome).toBe("cancelled");

      // A typo in the file: logged naming the entry and field, the two tenants still served.
      writeTenantsFile(file, [healthy, { ...sovereign, rateLimits: "lots" }]);
      worker.kill("SIGHUP");
      await logged("tenants not reloaded, the previous ones are kept");
      const refusal = out.split("\n").find((l) => l.includes("tenants not reloaded")) as string;
      expect(JSON.parse(refusal).level).toBeGreaterThanOrEqual(50);
      expect(refusal).toContain('tenants[1] (\\"sovereign\\").rateLimits \\"lots\\"');
      const [stillServed] = await foreignJob(harness, "sovereign", sovereignAction());
      const [firstTenant] = await foreignJob(
        harness,
        HEALTHY,
        harness.sim.store.add({ status: "Pending" }).id,
      );
      const results = await harness.results(4);
      for (const job of [stillServed, firstTenant])
        expect(results.find((r) => r.jobId === job?.jobId)).toMatchObject({ outcome: "cancelled" });
      expect(worker.exitCode).toBeNull();
      // results --tenant: that tenant's results only (the job that named it before it was served
      // kept the name it gave, and is not among them).
      writeTenantsFile(file, [healthy, sovereign]);
      const listed = await runCli(["results", "--tenant", "sovereign", "--json"], harness.env);
      const theirs = listed.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(theirs.map((r) => [r.tenantId, r.outcome])).toEqual([
        [SOVEREIGN, "cancelled"],
        [SOVEREIGN, "cancelled"],
      ]);
    } finally {
      worker.kill("SIGTERM");
    }
    expect((await exited).code).toBe(0);
  });
});

describe("front doors and unknown tenants", () => {
  it("exits 2 naming a tenant not in the file, on enqueue, campaign, status and results, and stores a named tenant's id", async () => {
    const { harness, file, entries } = await startTenantsHarness();
    h = harness;
    writeTenantsFile(file, [entries.healthy, entries.sovereign], "healthy");
    const env = { ...harness.env, LOG_LEVEL: "info" };
    const id = newActionId();
    for (const args of [
      ["enqueue", id, "--comment", "x", "--tenant", "nobody"],
      ["campaign", "--comment", "x", "--filter", "status eq 'Pending'", "--tenant", "nobody"],
      ["status", "--tenant", "nobody"],
      ["results", "--tenant", "nobody"],
    ]) {
      const run = await runCli(args, env);
      expect(run.code, args.join(" ")).toBe(2);
      // enqueue and campaign name every bad argument after "Nothing was enqueued: ".
      expect(run.stderr.trim()).toMatch(/^mde-cancel: (Nothing was enqueued: )?--tenant "nobody" is not/);
      expect(run.stderr.trim()).toContain(
        `--tenant "nobody" is not a tenant of MDE_TENANTS_FILE ${file}; give the id or name of one of its tenants (healthy, sovereign).`,
      );
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(await harness.cancelQueue.count()).toBe(0);
    // Names and ids in any case; the job stores the id.
    const byName = await runCli(["enqueue", id, "--comment", "x", "--tenant", "Sovereign", "--json"], env);
    expect(byName.code, byName.stderr).toBe(0);
    expect(JSON.parse(byName.stdout)).toMatchObject({ tenantId: SOVEREIGN, status: "added" });
    const [job] = await harness.cancelQueue.getJobs(["waiting"]);
    expect(job?.data.tenantId).toBe(SOVEREIGN);
    // status shows each tenant's budget by name; --tenant narrows it to one.
    const status = await runCli(["status", "--json", "--tenant", SOVEREIGN.toUpperCase()], env);
    const budget = JSON.parse(status.stdout).budget as { tenant: string; endpoint: string }[];
    expect(budget.map((b) => `${b.tenant} ${b.endpoint}`)).toEqual([
      "sovereign get",
      "sovereign cancel",
      "sovereign list",
    ]);
    const all = await runCli(["status"], env);
    expect(all.stdout).toMatch(new RegExp(`^budget healthy \\(${HEALTHY}\\) get: 3/3 left per 2 s`, "m"));
    expect(all.stdout).toMatch(
      new RegExp(`^budget sovereign \\(${SOVEREIGN}\\) list: 2/2 left per 2 s`, "m"),
    );
  });
});
