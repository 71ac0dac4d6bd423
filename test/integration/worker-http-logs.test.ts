import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../cli/free-port.js";
import { type Harness, SECRET, startHarness } from "../support/harness.js";

/** What an on-call engineer greps for: one line per Defender exchange and one per job outcome. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Line = Record<string, unknown>;

describe("worker logs at debug level", () => {
  it("log each Defender exchange and each outcome with what a support case needs, and no credential", async () => {
    const dashboardPassword = "dashboard-pw-never-logged";
    const harness = await startHarness({
      env: {
        METRICS_PORT: String(await freePort()),
        DASHBOARD_PORT: String(await freePort()),
        DASHBOARD_USER: "oncall",
        DASHBOARD_PASSWORD: dashboardPassword,
      },
    });
    h = harness;
    const id = harness.sim.store.add({ status: "InProgress" }).id;
    harness.sim.injectFault({
      endpoint: "cancel",
      status: 403,
      body: { error: { code: "Forbidden", message: "no permission", target: "req-4711" } },
    });
    await harness.startWorker();
    await harness.enqueue([{ machineActionId: id, comment: "stop" }]);
    await harness.results(1);

    const lines = harness.logs.map((l) => JSON.parse(l) as Line);
    const exchanges = lines.filter((l) => l.msg === "defender exchange");
    expect(exchanges.find((l) => l.endpoint === "get")).toMatchObject({
      method: "GET",
      path: `/api/machineactions/${id}`,
      status: 200,
      ms: expect.any(Number),
    });
    expect(exchanges.find((l) => l.endpoint === "cancel")).toMatchObject({
      method: "POST",
      path: `/api/machineactions/${id}/cancel`,
      status: 403,
      ms: expect.any(Number),
      target: "req-4711",
    });
    expect(lines.find((l) => l.msg === "job finished")).toMatchObject({
      machineActionId: id,
      outcome: "failed",
      error: "forbidden",
      httpStatus: 403,
      target: "req-4711",
      attempts: 1,
      ms: expect.any(Number),
    });
    expect(lines.find((l) => l.msg === "operations endpoints listening")).toBeDefined();

    const text = harness.logs.join("\n");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(dashboardPassword);
    expect(text).not.toMatch(/Bearer|authorization/i);
    for (const token of harness.sim.issuedTokens()) expect(text).not.toContain(token);
  });
});
