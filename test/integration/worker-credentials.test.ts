import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { entraError } from "../../sim/entra.js";
import { certBundle } from "../support/cert-bundle.js";
import { runCli } from "../support/cli.js";
import { certDir, type Harness, SECRET, startHarness } from "../support/harness.js";
import { waitFor } from "../support/wait.js";

/** Issue 12, hole 4: the credential is checked when the worker starts, not on its first job. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PASSWORD = "Key-pa55phrase-never-logged";

async function readyz(port: number): Promise<{ status: number; reason?: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { reason?: string };
  return { status: response.status, reason: body.reason };
}

const errorLines = (logs: string[], needle: string) =>
  logs.filter((l) => l.includes(needle) && JSON.parse(l).level >= 50);

describe("worker certificate checked at start", () => {
  it("signs in with an encrypted key and AZURE_CLIENT_CERTIFICATE_PASSWORD (real msal client assertion)", async () => {
    h = await startHarness({
      env: {
        AZURE_CLIENT_SECRET: "",
        AZURE_CLIENT_CERTIFICATE_PATH: certBundle(certDir, "client-encrypted", { password: PASSWORD }),
        AZURE_CLIENT_CERTIFICATE_PASSWORD: PASSWORD,
      },
    });
    await h.startWorker();
    const id = h.sim.store.add({ status: "Pending" }).id;
    await h.enqueue([{ machineActionId: id, comment: "encrypted key" }]);
    const [result] = await h.results(1);
    expect(result?.outcome).toBe("cancelled");
    // The simulator checked the PS256 signature against the registered certificate.
    expect(h.sim.requests.filter((r) => r.endpoint === "token").map((r) => r.status)).toEqual([200]);
    expect(h.logs.some((l) => l.includes(PASSWORD))).toBe(false);
  });

  it("stops `mde-cancel worker` with exit 2 naming the variable, before it connects to Redis", async () => {
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const env = {
      REDIS_URL: deadRedis,
      AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      AZURE_CLIENT_ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      METRICS_PORT: "0",
      LOG_LEVEL: "info",
    };
    const encrypted = certBundle(certDir, "client-encrypted", { password: PASSWORD });
    const cases: [Record<string, string>, RegExp][] = [
      [
        { AZURE_CLIENT_CERTIFICATE_PATH: certBundle(certDir, "client-no-key", { key: false }) },
        /^mde-cancel: AZURE_CLIENT_CERTIFICATE_PATH=\S+client-no-key\.pem holds no private key; /,
      ],
      [
        { AZURE_CLIENT_CERTIFICATE_PATH: encrypted },
        /^mde-cancel: AZURE_CLIENT_CERTIFICATE_PATH=\S+ holds an encrypted private key; set AZURE_CLIENT_CERTIFICATE_PASSWORD to its passphrase\.$/,
      ],
      [
        { AZURE_CLIENT_CERTIFICATE_PATH: encrypted, AZURE_CLIENT_CERTIFICATE_PASSWORD: "wrong-Passphrase-7" },
        /^mde-cancel: AZURE_CLIENT_CERTIFICATE_PASSWORD does not decrypt the private key in AZURE_CLIENT_CERTIFICATE_PATH=/,
      ],
      [
        { AZURE_CLIENT_CERTIFICATE_PATH: `${certDir}/no-such-file.pem` },
        /^mde-cancel: AZURE_CLIENT_CERTIFICATE_PATH=\S+no-such-file\.pem cannot be read \(ENOENT\)/,
      ],
    ];
    for (const [extra, expected] of cases) {
      const run = await runCli(["worker"], { ...env, ...extra });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.trim()).toMatch(expected);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr + run.stdout).not.toContain("wrong-Passphrase-7");
    }
  });
});

describe("worker token at start", () => {
  it("asks Entra ID at start: a refusal is logged once with its AADSTS code, /readyz is 503 naming it, jobs fail unauthorized", async () => {
    const port = await freePort();
    h = await startHarness({
      env: {
        AZURE_CLIENT_SECRET: "wrong-Secret-value-42",
        METRICS_PORT: String(port),
        METRICS_HOST: "127.0.0.1",
      },
    });
    await h.startWorker();
    // No job yet: the refusal comes from the worker's own request at start.
    const notReady = await waitFor("/readyz to answer 503", async () => {
      const answer = await readyz(port);
      return answer.status === 503 ? answer : undefined;
    });
    expect(notReady.reason).toMatch(/^Entra ID refused the credential \(AADSTS7000215\)/);
    expect(h.sim.tokenRequests()).toBe(1);

    const ids = Array.from({ length: 4 }, () => h?.sim.store.add({ status: "Pending" }).id as string);
    await h.enqueue(ids.map((machineActionId) => ({ machineActionId, comment: "refused" })));
    const results = await h.results(4);
    expect(results.map((r) => r.outcome)).toEqual(Array(4).fill("failed"));
    expect(
      results.every((r) => r.error?.code === "unauthorized" && /AADSTS7000215/.test(r.error.message)),
    ).toBe(true);
    const refusals = errorLines(h.logs, "AADSTS7000215");
    expect(refusals).toHaveLength(1);
    expect(JSON.parse(refusals[0] as string)).toMatchObject({ code: "AADSTS7000215" });
    expect(refusals[0]).toMatch(
      /credential refused by Entra ID \(AADSTS7000215\): check .*AZURE_CLIENT_SECRET/,
    );
    // Within the minute, the jobs were answered from the refusal: Entra ID was asked once, at start.
    expect(h.sim.tokenRequests()).toBe(1);
    expect(h.sim.requests.filter((r) => ["get", "cancel", "list"].includes(r.endpoint))).toHaveLength(0);
    expect((await readyz(port)).status).toBe(503);
    expect(h.logs.some((l) => l.includes("wrong-Secret-value-42") || l.includes(SECRET))).toBe(false);
  });

  it("tries a refused credential again once per retry period, and /readyz heals when consent is granted", async () => {
    const port = await freePort();
    h = await startHarness({ env: { METRICS_PORT: String(port), METRICS_HOST: "127.0.0.1" } });
    let consented = false;
    // The app is not yet provisioned in the tenant: what Entra ID answers before an admin consents.
    const notConsented = entraError(
      400,
      "unauthorized_client",
      700016,
      "Application was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant.",
    ).body;
    h.sim.injectFault({
      endpoint: "token",
      status: 400,
      body: notConsented,
      times: 1_000_000,
      match: () => !consented,
    });
    const retryMs = 1_000;
    const started = Date.now();
    await h.startWorker({ credentialRetryMs: retryMs });
    const notReady = await waitFor("/readyz to answer 503", async () => {
      const answer = await readyz(port);
      return answer.status === 503 ? answer : undefined;
    });
    expect(notReady.reason).toMatch(/AADSTS700016/);
    // Tried again in the background, but never more than once per retry period.
    await waitFor("a third try", () => h?.sim.tokenRequests() === 3, 20_000);
    const tries = h.sim.tokenRequests();
    expect(tries).toBeLessThanOrEqual(Math.floor((Date.now() - started) / retryMs) + 1);

    consented = true;
    await waitFor("/readyz to answer 200 again", async () => (await readyz(port)).status === 200, 20_000);
    expect(errorLines(h.logs, "AADSTS700016")).toHaveLength(1);
    expect(h.logs.some((l) => l.includes("Entra ID accepts the credential again"))).toBe(true);
    const id = h.sim.store.add({ status: "Pending" }).id;
    await h.enqueue([{ machineActionId: id, comment: "after consent" }]);
    const [result] = await h.results(1);
    expect(result?.outcome).toBe("cancelled");
  });
});
