import SwaggerParser from "@apidevtools/swagger-parser";
import type { RouteOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestIntake, type TestIntake } from "../support/intake.js";

let intake: TestIntake;
const routes: RouteOptions[] = [];
beforeAll(async () => {
  intake = await startTestIntake({
    env: { INTAKE_PUBLIC_URL: "https://soar-gw.example.com/mde" },
    overrides: { onRoute: (route) => void routes.push(route) },
  });
});
afterAll(() => intake.close());

type Operation = {
  parameters?: { in: string; schema?: { required?: string[]; properties?: Record<string, unknown> } }[];
  responses: Record<string, { headers?: Record<string, unknown> }>;
};
type Document = { paths: Record<string, Record<string, Operation>> } & Record<string, unknown>;

async function document(path: string): Promise<Document> {
  const answer = await intake.call("GET", path);
  expect(answer.status).toBe(200);
  return answer.body;
}

/**
 * Every route Fastify registered, as `METHOD /path/{param}`. Left out: the HEAD twin Fastify adds
 * to every GET (the documents describe the GET), and swagger-ui's own pages and assets under
 * /docs, which render the documents rather than belong in them.
 */
function registered(): string[] {
  return routes
    .flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((m) => `${m} ${r.url}`))
    .filter((r) => !r.startsWith("HEAD ") && !/ \/docs(\/|$)/.test(r))
    .map((r) => r.replace(/:(\w+)/g, "{$1}"));
}

function described(doc: Document): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe("OpenAPI 3.0 and Swagger 2.0", () => {
  it("are both valid documents", async () => {
    const openapi = await document("/openapi.json");
    expect(openapi.openapi).toMatch(/^3\.0\./);
    await SwaggerParser.validate(structuredClone(openapi) as never);
    const swagger = await document("/swagger.json");
    expect(swagger.swagger).toBe("2.0");
    await SwaggerParser.validate(structuredClone(swagger) as never);
  });

  it("describe every route the server registers, in both", async () => {
    const expected = registered().sort();
    expect(expected).toContain("POST /v1/cancels");
    expect(expected).toContain("DELETE /v1/cancels/{jobId}/callback");
    expect(described(await document("/openapi.json")).sort()).toEqual(expected);
    expect(described(await document("/swagger.json")).sort()).toEqual(expected);
  });

  it("stay flat (no oneOf/anyOf) and give Power Platform the host, basePath and schemes", async () => {
    const swagger = await document("/swagger.json");
    for (const text of [JSON.stringify(swagger), JSON.stringify(await document("/openapi.json"))]) {
      expect(text).not.toMatch(/"(oneOf|anyOf|allOf)"/);
    }
    expect(swagger).toMatchObject({ host: "soar-gw.example.com", basePath: "/mde", schemes: ["https"] });
    expect(Object.keys(swagger.securityDefinitions as object)[0]).toBe("apiKey");
    const campaign = swagger.paths["/v1/campaigns"]?.post?.parameters?.find((p) => p.in === "body");
    // "ids or filter" cannot be said in Swagger 2.0: both optional; the server requires exactly one.
    expect(campaign?.schema?.required).toEqual(["comment"]);
    expect(Object.keys(campaign?.schema?.properties ?? {})).toEqual(
      expect.arrayContaining(["machineActionIds", "filter"]),
    );
    const accepted = swagger.paths["/v1/cancels"]?.post?.responses["202"];
    expect(Object.keys(accepted?.headers ?? {})).toEqual(["Location", "Retry-After"]);
    const openapi = await document("/openapi.json");
    expect(openapi.servers).toEqual([{ url: "https://soar-gw.example.com/mde" }]);
  });

  it("are rendered at /docs", async () => {
    const page = await intake.call("GET", "/docs/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const init = await intake.call("GET", "/docs/static/swagger-initializer.js");
    expect(init.text).toContain("/openapi.json");
    expect(init.text).toContain("/swagger.json");
  });
});
