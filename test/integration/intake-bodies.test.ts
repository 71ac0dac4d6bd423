import { describe, expect, it } from "vitest";
import { guid, intakeForFile, startTestIntake, type TestIntake } from "../support/intake.js";

const api = intakeForFile();

/** Every refusal is problem+json with the contract's members; a 400 names each bad field. */
function expectProblem(answer: Awaited<ReturnType<TestIntake["call"]>>, status: number, fields?: string[]) {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status });
  expect(answer.body.detail).toEqual(expect.any(String));
  if (fields) expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual(fields);
}

describe("intake request bodies", () => {
  it("refuses bad JSON with 400 naming the body", async () => {
    const answer = await api.call("POST", "/v1/cancels", {
      raw: '{"machineActionId": ',
      headers: { "content-type": "application/json" },
    });
    expectProblem(answer, 400, ["body"]);
  });

  it("refuses a body that is not JSON with 415", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
      const answer = await api.call("POST", "/v1/cancels", {
        raw: "machineActionId=x",
        headers: { "content-type": type },
      });
      expectProblem(answer, 415);
      expect(answer.body.detail).toContain(type);
    }
  });

  it("refuses a body over 1 MB with 413", async () => {
    const big = { machineActionId: guid(), comment: "x", correlationId: "y".repeat(1024 * 1024) };
    expectProblem(await api.call("POST", "/v1/cancels", { body: big }), 413);
    const ids = Array.from({ length: 30_000 }, guid);
    expectProblem(
      await api.call("POST", "/v1/campaigns", { body: { machineActionIds: ids, comment: "x" } }),
      413,
    );
  });

  it("refuses a wrong GUID with 400 naming the field, and enqueues nothing", async () => {
    const answer = await api.call("POST", "/v1/cancels", {
      body: { machineActionId: "../machines/x", comment: "x" },
    });
    expectProblem(answer, 400, ["machineActionId"]);
    expect(answer.body.errors[0]).toEqual({ field: "machineActionId", message: "must be a GUID" });
    const campaign = await api.call("POST", "/v1/campaigns", {
      body: { machineActionIds: [guid(), "nope", guid()], comment: "x" },
    });
    expectProblem(campaign, 400, ["machineActionIds.1"]);
    expect(await api.intake.cancelQueue.count()).toBe(0);
  });

  it("names every bad field at once: missing, wrong type, unknown", async () => {
    const answer = await api.call("POST", "/v1/cancels", {
      body: { machineActionId: guid(), priority: "high", callbackURL: "https://x" },
    });
    expectProblem(answer, 400, ["comment", "priority", "callbackURL"]);
    expect(answer.body.errors).toContainEqual({ field: "comment", message: "is required" });
    expect(answer.body.errors).toContainEqual({ field: "callbackURL", message: "is not a known field" });
    expectProblem(await api.call("POST", "/v1/cancels", { body: [1] }), 400, ["body"]);
    expectProblem(await api.call("POST", "/v1/cancels"), 400, ["body"]);
  });

  it("refuses an unknown tenant with 400 naming tenantId", async () => {
    const answer = await api.call("POST", "/v1/cancels", {
      body: { machineActionId: guid(), comment: "x", tenantId: "fabrikam" },
    });
    expectProblem(answer, 400, ["tenantId"]);
    expect(answer.body.detail).toContain("fabrikam");
  });

  it("refuses a callbackUrl while no INTAKE_WEBHOOK_SECRET signs callbacks", async () => {
    const answer = await api.call("POST", "/v1/cancels", {
      body: { machineActionId: guid(), comment: "x", callbackUrl: "https://soar.example.com/hook" },
    });
    expectProblem(answer, 400, ["callbackUrl"]);
    expect(answer.body.detail).toContain("INTAKE_WEBHOOK_SECRET");
    expect(await api.intake.cancelQueue.count()).toBe(0);
  });

  it("wants exactly one of machineActionIds and filter in a campaign", async () => {
    const both = await api.call("POST", "/v1/campaigns", {
      body: { machineActionIds: [guid()], filter: "status eq 'Pending'", comment: "x" },
    });
    expectProblem(both, 400, ["machineActionIds", "filter"]);
    expectProblem(await api.call("POST", "/v1/campaigns", { body: { comment: "x" } }), 400, [
      "machineActionIds",
      "filter",
    ]);
    const tooMany = Array.from({ length: 10_001 }, guid);
    expectProblem(
      await api.call("POST", "/v1/campaigns", { body: { machineActionIds: tooMany, comment: "x" } }),
      400,
      ["machineActionIds"],
    );
  });

  it("answers 404 problems for unknown jobs, campaigns and routes, and 400 for an impossible id", async () => {
    expectProblem(await api.call("GET", `/v1/cancels/${guid()}`), 404);
    expectProblem(await api.call("GET", "/v1/campaigns/c-unknown"), 404);
    expectProblem(await api.call("GET", "/v2/anything"), 404);
    expectProblem(await api.call("GET", "/v1/cancels/a:b"), 400, ["jobId"]);
    expectProblem(await api.call("GET", "/v1/campaigns/c-unknown/results?cursor=abc"), 400, ["cursor"]);
    // A URL Fastify cannot even decode is refused before any route: a problem too.
    expectProblem(await api.call("GET", "/v1/cancels/%E0%A4%A"), 400);
  });

  it("answers 500 without the internals of the failure", async () => {
    const failing = {
      cancelJob: async () => Promise.reject(new Error("ECONNRESET redis://:hunter2@10.0.0.5")),
    };
    const broken = await startTestIntake({ overrides: { backend: failing as never } });
    try {
      const answer = await broken.call("GET", `/v1/cancels/${guid()}`, { key: await broken.newKey() });
      expectProblem(answer, 500);
      expect(answer.text).not.toContain("hunter2");
      expect(answer.text).not.toContain("ECONNRESET");
    } finally {
      await broken.close();
    }
  });
});
