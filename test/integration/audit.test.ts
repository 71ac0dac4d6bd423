import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startCampaign } from "../../jobs/campaign.js";
import { enqueueCancels } from "../../jobs/enqueue.js";
import { AuditLog, type AuditRecord } from "../../shared/redis/audit-log.js";
import { CampaignStore } from "../../shared/redis/campaign-store.js";
import { keyPrefix } from "../../shared/redis/queues.js";
import { runCli } from "../support/cli.js";
import { type Harness, SECRET, startHarness, TENANT } from "../support/harness.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

let h: Harness | undefined;
let redis: Redis | undefined;
let prefix: string | undefined;
afterEach(async () => {
  await h?.close();
  redis?.disconnect();
  if (prefix) await deleteKeys(prefix);
  h = redis = prefix = undefined;
});

async function all(log: AuditLog, options: Parameters<AuditLog["records"]>[0] = {}): Promise<AuditRecord[]> {
  const found: AuditRecord[] = [];
  for await (const record of log.records(options)) found.push(record);
  return found;
}

/** Redis's clock in ms: the one the audit trail keeps time by. */
async function redisNow(r: Redis): Promise<number> {
  const [s, us] = await r.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

function openLog(retentionMs: number): AuditLog {
  redis ??= new Redis(REDIS_URL);
  prefix ??= uniquePrefix();
  return new AuditLog(redis, keyPrefix({ queuePrefix: prefix, cancelQueue: "mde-cancel" }), retentionMs);
}

describe("the audit trail", () => {
  it("records a CLI enqueue and the worker's outcome, and prints them oldest first", async () => {
    h = await startHarness();
    const id = h.sim.store.add({ status: "Pending" }).id;
    const enqueued = await runCli(
      ["enqueue", id, "--comment", "stop", "--requested-by", "alice@contoso"],
      h.env,
    );
    expect(enqueued.code).toBe(0);
    await h.startWorker();
    const [result] = await h.results(1);

    const printed = await waitFor("the outcome in the audit trail", async () => {
      const run = await runCli(["audit", "--json"], h?.env ?? {});
      const lines = run.stdout.trim().split("\n").filter(Boolean);
      return lines.length >= 2 ? { run, records: lines.map((l) => JSON.parse(l) as AuditRecord) } : undefined;
    });
    expect(printed.run.code).toBe(0);
    const [request, outcome] = printed.records;
    expect(request).toMatchObject({
      kind: "request",
      requestedBy: "alice@contoso",
      apiKey: null,
      client: expect.stringMatching(/^cli:.+@.+/),
      tenantId: TENANT,
      machineActionIds: [id],
      jobId: result?.jobId,
      status: "added",
    });
    expect(outcome).toMatchObject({
      kind: "outcome",
      requestedBy: "alice@contoso",
      tenantId: TENANT,
      machineActionIds: [id],
      jobId: result?.jobId,
      outcome: "cancelled",
      status: "Cancelled",
    });
    expect(Date.parse(request?.at ?? "")).toBeLessThanOrEqual(Date.parse(outcome?.at ?? ""));
    expect(printed.run.stdout).not.toContain(SECRET);

    const human = await runCli(["audit", "--since", "1h", "--tenant", TENANT], h.env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      / request {2}added {2}tenant=\S+ {2}job=\S+ {2}actions=\S+ {2}by=alice@contoso/,
    );
    expect(human.stdout).toMatch(/ outcome {2}cancelled Cancelled/);
    const otherTenant = await runCli(["audit", "--tenant", crypto.randomUUID()], h.env);
    expect(otherTenant.stdout).toBe("");
    // A tenant's name from MDE_TENANTS_FILE selects its records too.
    const tenantsFile = join(mkdtempSync(join(tmpdir(), "mde-audit-")), "tenants.json");
    writeFileSync(tenantsFile, JSON.stringify({ tenants: [{ id: TENANT, name: "contoso" }] }));
    const byName = await runCli(["audit", "--tenant", "contoso", "--json"], {
      ...h.env,
      MDE_TENANTS_FILE: tenantsFile,
    });
    expect(byName.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("records a CLI campaign as coming from the CLI", async () => {
    h = await startHarness();
    const file = join(mkdtempSync(join(tmpdir(), "mde-audit-")), "ids.txt");
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    writeFileSync(file, ids.join("\n"));
    const started = await runCli(
      ["campaign", "--ids-file", file, "--comment", "sweep", "--name", "sweep-1"],
      h.env,
    );
    expect(started.code).toBe(0);
    const printed = await runCli(["audit", "--json"], h.env);
    const records = printed.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditRecord);
    expect(records).toEqual([
      expect.objectContaining({
        kind: "request",
        campaignId: "sweep-1",
        machineActionIds: ids,
        status: "added",
        client: expect.stringMatching(/^cli:/),
      }),
    ]);
  });

  it("records a campaign's requests: the actions that got a job, and those already queued", async () => {
    const log = openLog(90 * 86_400_000);
    const config = { queuePrefix: prefix as string, cancelQueue: "mde-cancel", resultRetentionMs: 600_000 };
    const queue = new Queue(config.cancelQueue, { connection: redis as Redis, prefix: config.queuePrefix });
    const [busy, fresh] = [crypto.randomUUID(), crypto.randomUUID()];
    await enqueueCancels(queue, [{ machineActionId: busy, comment: "urgent" }], {
      defaultTenantId: TENANT,
      audit: log.as({ client: "library" }),
    });
    const store = new CampaignStore(redis as Redis, keyPrefix(config), config.resultRetentionMs);
    const started = await startCampaign(
      queue,
      store,
      {
        ids: [busy, fresh],
        comment: "sweep",
        tenantId: TENANT,
        source: "test",
        requestedBy: "ops",
      },
      { audit: log.as({ client: "library" }) },
    );
    await queue.close();
    const records = await all(log);
    expect(
      records.map(({ kind, status, campaignId, machineActionIds, requestedBy, client }) => ({
        kind,
        status,
        campaignId,
        machineActionIds,
        requestedBy,
        client,
      })),
    ).toEqual([
      {
        kind: "request",
        status: "added",
        campaignId: undefined,
        machineActionIds: [busy],
        requestedBy: null,
        client: "library",
      },
      {
        kind: "request",
        status: "added",
        campaignId: started.campaignId,
        machineActionIds: [fresh],
        requestedBy: "ops",
        client: "library",
      },
      {
        kind: "request",
        status: "already_queued",
        campaignId: started.campaignId,
        machineActionIds: [busy],
        requestedBy: "ops",
        client: "library",
      },
    ]);
  });

  it("refuses a malformed --since or --tenant with exit 2, naming it", async () => {
    const env = { QUEUE_PREFIX: uniquePrefix() };
    const since = await runCli(["audit", "--since", "3 weeks"], env);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since "3 weeks" must be <int><s\|m\|h\|d>/);
    const tenant = await runCli(["audit", "--tenant", "contoso.com"], env);
    expect(tenant.code).toBe(2);
    expect(tenant.stderr).toMatch(/--tenant "contoso.com" is neither a tenant GUID nor a tenant name/);
  });

  it("--since keeps only the records appended within it", async () => {
    const log = openLog(90 * 86_400_000);
    const sink = log.as({ apiKey: "soar-prod", client: "203.0.113.7" });
    await sink.append({ kind: "refusal", status: "403", reason: "read-only key" });
    const [old] = await all(log);
    const oldMs = Date.parse(old?.at ?? "");
    await waitFor(
      "Redis's clock to move 2 s on",
      async () => (await redisNow(redis as Redis)) >= oldMs + 2_000,
    );
    await sink.append({ kind: "request", tenantId: TENANT, machineActionIds: ["x"], status: "added" });
    // Everything since 1 s after the old record: the new one only.
    const sinceMs = (await redisNow(redis as Redis)) - oldMs - 1_000;
    const recent = await all(log, { sinceMs });
    expect(recent.map((r) => r.kind)).toEqual(["request"]);
    expect(recent[0]).toMatchObject({ apiKey: "soar-prod", client: "203.0.113.7", requestedBy: null });
    expect((await all(log)).map((r) => r.kind)).toEqual(["refusal", "request"]);
  });

  it("trims records older than the retention on every append", async () => {
    const kept = openLog(90 * 86_400_000);
    await kept.append({ kind: "request", jobId: "a" });
    await kept.append({ kind: "request", jobId: "b" });
    const newest = Date.parse((await all(kept)).at(-1)?.at ?? "");
    // A deployment whose AUDIT_RETENTION is 5 s appends once the first two are older than that.
    const short = openLog(5_000);
    await waitFor(
      "both records to be older than 5 s",
      async () => (await redisNow(redis as Redis)) > newest + 5_000,
    );
    await short.append({ kind: "outcome", jobId: "c" });
    expect((await all(short)).map((r) => r.jobId)).toEqual(["c"]);
  });
});
