import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { parseConfig } from "../../shared/config/config.js";
import { UsageError } from "../../shared/core/errors.js";
import { isLoopbackHost } from "../../shared/core/loopback.js";
import { checkBasicAuth, dashboardSettings } from "../../worker/dashboard-auth.js";
import { runCli } from "../support/cli.js";
import { CLIENT, type Harness, SECRET, startHarness, TENANT } from "../support/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const settings = (env: Record<string, string>) => dashboardSettings(parseConfig(env));

describe("dashboard settings", () => {
  it("is off without DASHBOARD_PORT, and on loopback without credentials by default", () => {
    expect(settings({})).toBeUndefined();
    expect(settings({ DASHBOARD_PORT: "0", DASHBOARD_HOST: "0.0.0.0" })).toBeUndefined();
    expect(settings({ DASHBOARD_PORT: "3000" })).toEqual({ host: "127.0.0.1", port: 3000 });
  });

  it("refuses a non-loopback host without credentials, naming the variables", () => {
    expect(() => settings({ DASHBOARD_PORT: "3000", DASHBOARD_HOST: "0.0.0.0" })).toThrow(UsageError);
    expect(() => settings({ DASHBOARD_PORT: "3000", DASHBOARD_HOST: "0.0.0.0" })).toThrow(
      /DASHBOARD_USER and DASHBOARD_PASSWORD/,
    );
    expect(() => settings({ DASHBOARD_PORT: "3000", DASHBOARD_USER: "oncall" })).toThrow(/both/);
  });

  it("takes credentials anywhere, loopback included", () => {
    const env = { DASHBOARD_PORT: "3000", DASHBOARD_USER: "oncall", DASHBOARD_PASSWORD: "pw" };
    expect(settings({ ...env, DASHBOARD_HOST: "0.0.0.0" })?.credentials).toEqual({
      user: "oncall",
      password: "pw",
    });
    expect(settings(env)?.credentials).toEqual({ user: "oncall", password: "pw" });
  });

  it("names a malformed DASHBOARD_PORT", () => {
    expect(() => parseConfig({ DASHBOARD_PORT: "x" })).toThrow(/DASHBOARD_PORT="x" must be a whole number/);
    expect(() => parseConfig({ DASHBOARD_PORT: "70000" })).toThrow(/DASHBOARD_PORT="70000"/);
  });

  it("tells loopback hosts apart", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["0.0.0.0", "10.0.0.1", "::", "dashboard.internal"])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it("checks basic credentials exactly", () => {
    const expected = { user: "oncall", password: "p:w" };
    expect(checkBasicAuth(basic("oncall", "p:w"), expected)).toBe(true);
    expect(checkBasicAuth(basic("oncall", "p:x"), expected)).toBe(false);
    expect(checkBasicAuth(basic("other", "p:w"), expected)).toBe(false);
    expect(checkBasicAuth(basic("oncall", ""), expected)).toBe(false);
    expect(checkBasicAuth(undefined, expected)).toBe(false);
    expect(checkBasicAuth("Bearer abc", expected)).toBe(false);
  });
});

describe("queue dashboard", () => {
  it("requires the password, lists the cancel and every results queue, and is read-only", async () => {
    const port = await freePort();
    h = await startHarness({
      env: {
        DASHBOARD_PORT: String(port),
        DASHBOARD_USER: "oncall",
        DASHBOARD_PASSWORD: "correct horse",
        RESULTS_QUEUE: "results-a,results-b",
      },
    });
    const running = await h.startWorker();
    expect(running.dashboardPort).toBe(port);
    expect(running.httpPort).toBeUndefined();
    const api = `http://127.0.0.1:${port}/admin/queues/api/queues`;

    const anonymous = await fetch(api);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    expect((await fetch(api, { headers: { Authorization: basic("oncall", "wrong") } })).status).toBe(401);

    const authorization = basic("oncall", "correct horse");
    const listed = await fetch(api, { headers: { Authorization: authorization } });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(["mde-cancel", "results-a", "results-b"]);
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);

    const ui = await fetch(`http://127.0.0.1:${port}/admin/queues`, {
      headers: { Authorization: authorization },
    });
    expect(ui.status).toBe(200);
    const pause = await fetch(`${api}/mde-cancel/pause`, {
      method: "PUT",
      headers: { Authorization: authorization },
    });
    expect(pause.status).toBe(405);
    expect(await h.cancelQueue.isPaused()).toBe(false);
  });

  it("makes the worker command exit 2 when the dashboard would be exposed without credentials", async () => {
    const run = await runCli(["worker"], {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_SECRET: SECRET,
      DASHBOARD_PORT: "3000",
      DASHBOARD_HOST: "0.0.0.0",
      // Nothing listens here: the refusal must come before any connection.
      REDIS_URL: "redis://127.0.0.1:1",
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/DASHBOARD_HOST=0\.0\.0\.0 .*DASHBOARD_USER and DASHBOARD_PASSWORD/);
    expect(run.stderr).not.toContain(SECRET);
  });
});
