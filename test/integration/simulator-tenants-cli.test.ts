/**
 * `mde-cancel simulator --tenants 3 --second-authority --tenants-file`: the file it writes loads
 * with the product's own loader, and every tenant in it gets a token from its own authority
 * through the real msal-node.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import { loadTenants } from "../../shared/config/tenants.js";
import { collect, startCli } from "../support/cli.js";
import { waitFor } from "../support/wait.js";

const certDir = process.env.MDE_TEST_CERT_DIR ?? join(process.cwd(), ".cache", "test-certs");
const dir = mkdtempSync(join(tmpdir(), "sim-tenants-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("mde-cancel simulator --tenants", () => {
  it("writes a tenants file whose every tenant gets its token from its own authority", async () => {
    const file = join(dir, "tenants.json");
    const child = startCli(
      ["simulator", "--port", "0", "--cert-dir", certDir, "--json", "--quiet", "--actions", "5"].concat([
        "--tenants",
        "3",
        "--second-authority",
        "--tenants-file",
        file,
      ]),
      {},
    );
    children.push(child);
    const exited = collect(child);
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    const line = await waitFor("the JSON announcement", () => stdout.split("\n").find(Boolean));
    const announced = JSON.parse(line) as {
      url: string;
      secondAuthorityHost: string;
      env: Record<string, string>;
      tenants: { tenants: { name: string }[] };
    };
    expect(announced.env.MDE_TENANTS_FILE).toBe(file);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(announced.tenants);

    const directory = loadTenants({ config: parseConfig(announced.env), env: announced.env });
    expect(directory.list().map((t) => t.name)).toEqual(["tenant-1", "tenant-2", "tenant-3"]);
    expect(directory.defaultTenant?.name).toBe("tenant-1");
    expect(directory.resolve("tenant-3")).toMatchObject({
      authorityHost: announced.secondAuthorityHost,
      apiBaseUrl: announced.secondAuthorityHost,
    });
    expect(directory.resolve("tenant-2")?.authorityHost).toBe(announced.url);

    for (const tenant of directory.list()) {
      const app = new ConfidentialClientApplication({
        auth: {
          clientId: tenant.clientId,
          clientSecret: tenant.credential.kind === "secret" ? tenant.credential.secret : "",
          authority: `${tenant.authorityHost}/${tenant.tenantId}`,
          knownAuthorities: [new URL(tenant.authorityHost).host],
        },
      });
      const result = await app.acquireTokenByClientCredential({ scopes: [tenant.tokenScope] });
      const claims = JSON.parse(Buffer.from(result?.accessToken.split(".")[1] ?? "", "base64url").toString());
      expect(claims.tid, tenant.name).toBe(tenant.tenantId);
      const listed = await fetch(`${tenant.apiBaseUrl}/api/machineactions?$top=1`, {
        headers: { authorization: `Bearer ${result?.accessToken}` },
      });
      expect(listed.status, tenant.name).toBe(200);
    }

    child.kill("SIGTERM");
    expect((await exited).code).toBe(0);
  });
});
