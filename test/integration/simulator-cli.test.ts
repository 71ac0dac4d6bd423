import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseSimulatorOptions, SIMULATOR_DEFAULTS } from "../../cli/simulator-options.js";
import { parseConfig } from "../../shared/config/config.js";
import { requireWorkerCredentials } from "../../shared/config/credentials.js";
import { ensureClientCert } from "../../sim/certs.js";
import { type CliRun, collect, runCli, startCli } from "../support/cli.js";
import { waitFor } from "../support/wait.js";

const certDir = process.env.MDE_TEST_CERT_DIR ?? join(process.cwd(), ".cache", "test-certs");
const TENANT = "11111111-2222-3333-4444-555555555555";
const SCOPE = "https://api.securitycenter.microsoft.com/.default";

interface Started {
  child: ChildProcess;
  exited: Promise<CliRun>;
  stdout: () => string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Starts the simulator on a free port with the test certificate, which this process already trusts. */
function startSimulatorCli(args: string[]): Started {
  const child = startCli(["simulator", "--port", "0", "--cert-dir", certDir, ...args], {});
  children.push(child);
  let stdout = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  return { child, exited: collect(child), stdout: () => stdout };
}

interface Announced {
  url: string;
  port: number;
  certPath: string;
  env: Record<string, string>;
}

async function token(url: string, secret = "simulator-secret"): Promise<Response> {
  return fetch(`${url}/${TENANT}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      client_secret: secret,
      scope: SCOPE,
    }),
  });
}

describe("mde-cancel simulator", () => {
  it("announces itself as JSON, serves Entra and Defender over HTTPS, and stops on SIGTERM with 0", async () => {
    const clientCert = ensureClientCert(certDir).certPath;
    const sim = startSimulatorCli([
      "--json",
      "--actions",
      "30",
      "--seed",
      "3",
      "--drift-ms",
      "0",
      "--client-cert",
      clientCert,
    ]);
    const line = await waitFor("the JSON announcement", () => sim.stdout().split("\n").find(Boolean));
    const announced = JSON.parse(line) as Announced;
    expect(announced.url).toBe(`https://127.0.0.1:${announced.port}`);
    expect(announced.certPath).toBe(join(certDir, "server.crt"));
    expect(announced.env).toEqual({
      MDE_API_BASE_URL: announced.url,
      AZURE_AUTHORITY_HOST: announced.url,
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      AZURE_CLIENT_SECRET: "simulator-secret",
      NODE_EXTRA_CA_CERTS: announced.certPath,
    });
    // The announced environment is exactly what a worker needs.
    expect(() => requireWorkerCredentials(parseConfig(announced.env))).not.toThrow();

    expect((await token(announced.url, "wrong")).status).toBe(401);
    const granted = await token(announced.url);
    expect(granted.status).toBe(200);
    const { access_token } = (await granted.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${access_token}` };

    const page = await fetch(`${announced.url}/api/machineactions?$top=10`, { headers });
    expect(page.status).toBe(200);
    const listed = (await page.json()) as {
      value: { id: string; status: string }[];
      "@odata.nextLink"?: string;
    };
    expect(listed.value).toHaveLength(10);
    expect(listed["@odata.nextLink"]).toContain(`${announced.url}/api/machineactions?`);

    const one = await fetch(`${announced.url}/api/machineactions/${listed.value[0]?.id}`, { headers });
    expect(one.status).toBe(200);
    expect(((await one.json()) as { id: string }).id).toBe(listed.value[0]?.id);

    // The admin API scripts it from outside the process, as a playbook author would.
    const added = await fetch(`${announced.url}/_sim/actions`, {
      method: "POST",
      body: JSON.stringify({ status: "Pending", type: "Isolate" }),
    });
    const { id } = (await added.json()) as { id: string };
    const cancelled = await fetch(`${announced.url}/api/machineactions/${id}/cancel`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ Comment: "false positive" }),
    });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { status: string }).status).toBe("Cancelled");
    const recorded = (await (await fetch(`${announced.url}/_sim/requests`)).json()) as { endpoint: string }[];
    expect(recorded.map((r) => r.endpoint)).toEqual(["token", "token", "list", "get", "cancel"]);

    sim.child.kill("SIGTERM");
    const run = await sim.exited;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("GET /api/machineactions -> 200");
  });

  it("prints the URL, the certificate to trust and the worker's environment as text", async () => {
    const sim = startSimulatorCli(["--actions", "3", "--rate-limits", "5/1s", "--quiet"]);
    const text = await waitFor("the banner", () => (sim.stdout().includes("Ctrl-C") ? sim.stdout() : ""));
    const url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
    expect(url).toBeDefined();
    expect(text).toContain(`NODE_EXTRA_CA_CERTS: ${join(certDir, "server.crt")}`);
    for (const line of [
      `export MDE_API_BASE_URL=${url}`,
      `export AZURE_AUTHORITY_HOST=${url}`,
      `export AZURE_TENANT_ID=${TENANT}`,
      "export AZURE_CLIENT_SECRET=simulator-secret",
      `export NODE_EXTRA_CA_CERTS=${join(certDir, "server.crt")}`,
      "export MDE_RATE_LIMITS=5/1s",
    ])
      expect(text).toContain(line);
    // Three generated actions cannot cover every type and status; the simulator adds what is missing.
    const summary = /(\d+) actions \(seed 1\): (.*)/.exec(text);
    expect(Number(summary?.[1])).toBeGreaterThanOrEqual(9);
    expect(summary?.[2]).not.toMatch(/\b0 /);
    sim.child.kill("SIGINT");
    const run = await sim.exited;
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("->");
  });

  it("refuses a bad option with exit 2 and a sentence naming it", async () => {
    // Commander's own refusals and ours both end in exit 2; each case costs a process, so few of them here.
    for (const [args, named] of [
      [["--faults", "p429=0.7,p500=0.7"], "--faults"],
      [["--cert-host", "bad host"], "--cert-host"],
      [["--client-cert", join(certDir, "missing.crt")], "--client-cert"],
      [["--no-such-option"], "--no-such-option"],
    ] as const) {
      const run = await runCli(["simulator", "--port", "0", "--cert-dir", certDir, ...args], {});
      expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(named);
      expect(run.stdout).toBe("");
    }
  });

  it("names the offending option in every validation error", () => {
    const defaults = { ...SIMULATOR_DEFAULTS, certHost: [] as string[] };
    for (const [key, value, named] of [
      ["port", "70000", "--port"],
      ["rateLimits", "lots", "--rate-limits"],
      ["faults", "p503=-1", "--faults"],
      ["terminalCancel", "404", "--terminal-cancel"],
      ["tenant", "contoso", "--tenant"],
      ["clientId", "app", "--client-id"],
      ["driftMs", "-1", "--drift-ms"],
      ["notFoundLagMs", "1.5", "--not-found-lag-ms"],
      ["actions", "many", "--actions"],
    ] as const) {
      expect(() => parseSimulatorOptions({ ...defaults, [key]: value }, "/"), key).toThrow(
        expect.objectContaining({ name: "UsageError", message: expect.stringContaining(named) }),
      );
    }
    const parsed = parseSimulatorOptions({ ...defaults, rateLimits: "none", driftMs: "0" }, "/srv");
    expect(parsed.sim.rateLimits).toEqual([]);
    expect(parsed.sim.drift).toBeUndefined();
    expect(parsed.certDir).toBe("/srv/.cache/simulator-certs");
  });
});
