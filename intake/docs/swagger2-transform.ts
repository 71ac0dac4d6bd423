import type { SwaggerTransform } from "@fastify/swagger";
import { z } from "zod";

type JsonSchema = Record<string, unknown>;

/**
 * fastify-type-provider-zod's transform writes OpenAPI 3 only; this one writes the same zod
 * schemas for Swagger 2.0: OpenAPI 3.0's schema dialect with `nullable` spelled `x-nullable`
 * (Swagger 2.0 has no null; AutoRest and Power Platform read the extension).
 */
export const swagger2Transform: SwaggerTransform = ({ schema, url }) => {
  if (!schema || (schema as { hide?: boolean }).hide) return { schema: { hide: true } as JsonSchema, url };
  const { body, params, querystring, headers, response, ...rest } = schema as JsonSchema;
  const out: JsonSchema = { ...rest };
  const parts = { body, params, querystring, headers } as Record<string, unknown>;
  for (const [part, zod] of Object.entries(parts)) if (zod) out[part] = toSwagger2(zod, "input");
  if (response) {
    const responses: JsonSchema = {};
    for (const [status, value] of Object.entries(response as Record<string, unknown>)) {
      // The documented problem response carries its schema per content type; Swagger 2.0 lists
      // content types per operation (`produces`) instead.
      const media = (value as { content?: Record<string, { schema: unknown }>; description?: string })
        .content;
      const zod = media ? Object.values(media)[0]?.schema : value;
      const converted = toSwagger2(zod, "output");
      const description = (value as { description?: string }).description;
      responses[status] = description ? { ...converted, description } : converted;
    }
    out.response = responses;
  }
  return { schema: out, url };
};

function toSwagger2(schema: unknown, io: "input" | "output"): JsonSchema {
  if (!(schema instanceof z.ZodType)) return schema as JsonSchema;
  return renameNullable(
    z.toJSONSchema(schema, { target: "openapi-3.0", io, unrepresentable: "any" }),
  ) as JsonSchema;
}

function renameNullable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renameNullable);
  if (!value || typeof value !== "object") return value;
  const out: JsonSchema = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === "$schema") continue;
    out[key === "nullable" ? "x-nullable" : key] = renameNullable(child);
  }
  return out;
}
