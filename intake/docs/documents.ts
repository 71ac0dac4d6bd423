import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { z } from "zod";
import type { IntakeApp } from "../deps.js";
import { withResponseHeaders } from "./response-headers.js";
import { swagger2Transform } from "./swagger2-transform.js";

const INFO = {
  title: "mde-cancel intake",
  version: "1.0.0",
  description:
    "Cancel Microsoft Defender for Endpoint machine actions from a playbook: 202 + Location + Retry-After polling, Idempotency-Key on POSTs, problem+json errors. Send the API key as X-API-Key (or Authorization: Bearer).",
};
const TAGS = [
  { name: "cancels", description: "One machine action" },
  { name: "campaigns", description: "Many machine actions" },
  { name: "operations", description: "Probes and documents; no key" },
];
const SWAGGER2_DECORATOR = "swagger2";

/**
 * Two documents from the same zod schemas: OpenAPI 3.0 (fastify-type-provider-zod's transform)
 * and Swagger 2.0, the only version Power Platform custom connectors import. Registered on the
 * root before any route, so both see every route.
 */
export async function describeRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: INFO,
      tags: TAGS,
      components: {
        securitySchemes: {
          apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
          bearer: { type: "http", scheme: "bearer", description: "Authorization: Bearer <API key>" },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    transform: withResponseHeaders(jsonSchemaTransform),
  });
  await app.register(swagger, {
    decorator: SWAGGER2_DECORATOR as "swagger",
    swagger: {
      info: INFO,
      tags: TAGS,
      consumes: ["application/json"],
      produces: ["application/json", "application/problem+json"],
      // Power Platform uses the first definition: the one header every SOAR tool can send.
      securityDefinitions: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        bearer: { type: "apiKey", in: "header", name: "Authorization", description: "Bearer <API key>" },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    transform: withResponseHeaders(swagger2Transform),
  });
}

const document = z.looseObject({}).describe("The document.");

/** GET /openapi.json, /swagger.json (with this service's host, as Power Platform needs) and /docs. */
export async function documentRoutes(app: IntakeApp, publicUrl: string | undefined): Promise<void> {
  const hidden = { tags: ["operations"], "x-ms-visibility": "internal", security: [] } as const;
  app.get(
    "/openapi.json",
    {
      schema: {
        operationId: "OpenApi",
        summary: "This API in OpenAPI 3.0",
        ...hidden,
        response: { 200: document },
      },
    },
    async (request) => {
      const base = baseOf(request, publicUrl);
      return { ...app.swagger(), servers: [{ url: base.href.replace(/\/$/, "") }] };
    },
  );
  app.get(
    "/swagger.json",
    {
      schema: {
        operationId: "Swagger",
        summary: "This API in Swagger 2.0",
        ...hidden,
        response: { 200: document },
      },
    },
    async (request) => {
      const base = baseOf(request, publicUrl);
      const swagger2 = (app as unknown as Record<string, () => Record<string, unknown>>)[SWAGGER2_DECORATOR];
      return {
        ...swagger2?.call(app),
        host: base.host,
        basePath: base.pathname.replace(/\/$/, "") || "/",
        schemes: [base.protocol.replace(":", "")],
      };
    },
  );
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    uiConfig: {
      urls: [
        { url: "/openapi.json", name: "OpenAPI 3.0" },
        { url: "/swagger.json", name: "Swagger 2.0 (Power Platform)" },
      ],
    },
  });
}

function baseOf(request: FastifyRequest, publicUrl: string | undefined): URL {
  return new URL(publicUrl ?? `${request.protocol}://${request.host}`);
}
