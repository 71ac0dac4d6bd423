import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { guid, startTestIntake, type TestIntake } from "../support/intake.js";
import { waitFor } from "../support/wait.js";

const CONTOSO = "11111111-2222-3333-4444-555555555555";
const FABRIKAM = "99999999-8888-7777-6666-555555555555";

let intake: TestIntake | undefined;
afterEach(async () => {
  await intake?.close();
  intake = undefined;
});

function tenantsFile(tenants: { id: string; name: string }[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "intake-tenants-")), "tenants.json");
  writeFileSync(path, JSON.stringify({ defaultTenant: "contoso", tenants }));
  return path;
}

describe("intake with a tenants file (MDE_TENANTS_FILE)", () => {
  it("takes a tenant by name, limits keys by tenant, and reads the file again on reload (SIGHUP)", async () => {
    const file = tenantsFile([{ id: CONTOSO, name: "contoso" }]);
    intake = await startTestIntake({ env: { MDE_TENANTS_FILE: file } });
    const key = await intake.newKey();
    const cancel = (tenantId?: string) => ({ machineActionId: guid(), comment: "stop", tenantId });

    const byName = await intake.call("POST", "/v1/cancels", { key, body: cancel("Contoso") });
    expect(byName.status).toBe(202);
    expect(byName.body.tenantId).toBe(CONTOSO);
    const unknown = await intake.call("POST", "/v1/cancels", { key, body: cancel("fabrikam") });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe("tenantId");

    writeFileSync(
      file,
      JSON.stringify({
        defaultTenant: "contoso",
        tenants: [
          { id: CONTOSO, name: "contoso" },
          { id: FABRIKAM, name: "fabrikam" },
        ],
      }),
    );
    intake.reloadTenants();
    const added = await intake.call("POST", "/v1/cancels", { key, body: cancel("fabrikam") });
    expect(added.status).toBe(202);
    expect(added.body.tenantId).toBe(FABRIKAM);
    const contosoOnly = await intake.newKey({ tenants: [CONTOSO] });
    expect(
      (await intake.call("POST", "/v1/cancels", { key: contosoOnly, body: cancel("fabrikam") })).status,
    ).toBe(403);
    expect((await intake.call("GET", `/v1/cancels/${added.body.jobId}`, { key: contosoOnly })).status).toBe(
      404,
    );

    // A bad file on reload is logged; the tenants in use stay.
    writeFileSync(file, "{ not json");
    intake.reloadTenants();
    await waitFor("the refused reload to be logged", () =>
      intake?.logs.some((l) => l.includes("not reloaded")),
    );
    expect((await intake.call("POST", "/v1/cancels", { key, body: cancel("fabrikam") })).status).toBe(202);
  });

  it("api-keys create takes tenant names and stores their ids", async () => {
    const file = tenantsFile([
      { id: CONTOSO, name: "contoso" },
      { id: FABRIKAM, name: "fabrikam" },
    ]);
    intake = await startTestIntake({ env: { MDE_TENANTS_FILE: file } });
    const env = {
      REDIS_URL: intake.config.redisUrl,
      QUEUE_PREFIX: intake.config.queuePrefix,
      MDE_TENANTS_FILE: file,
    };
    const created = await runCli(
      ["api-keys", "create", "--name", "mssp", "--tenant", "fabrikam", "--json"],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const listed = await runCli(["api-keys", "list", "--json"], env);
    expect(JSON.parse(listed.stdout)).toMatchObject({ name: "mssp", tenants: [FABRIKAM] });
    const { key } = JSON.parse(created.stdout);
    expect(
      (await intake.call("POST", "/v1/cancels", { key, body: { machineActionId: guid(), comment: "x" } }))
        .status,
    ).toBe(403);
    const ok = await intake.call("POST", "/v1/cancels", {
      key,
      body: { machineActionId: guid(), comment: "x", tenantId: "fabrikam" },
    });
    expect(ok.status).toBe(202);
    expect((await runCli(["api-keys", "create", "--name", "x", "--tenant", "northwind"], env)).code).toBe(2);
  });
});
