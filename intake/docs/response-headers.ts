import type { SwaggerTransform } from "@fastify/swagger";

type JsonSchema = Record<string, unknown>;

/** Every 202 of the intake carries these (the polling pattern Logic Apps follows by itself). */
const POLLING_HEADERS = {
  Location: { type: "string", description: "Absolute URL to poll." },
  "Retry-After": { type: "integer", description: "Seconds to wait before polling." },
};

/**
 * Adds what zod cannot say to a transformed route: the headers of every 202, and a 204 without
 * content. Used for both documents, after the zod transform of each.
 */
export function withResponseHeaders(transform: SwaggerTransform): SwaggerTransform {
  return (input) => {
    const transformed = transform(input);
    const response = (transformed.schema as JsonSchema).response as Record<string, JsonSchema> | undefined;
    if (!response) return transformed;
    const patched: Record<string, JsonSchema> = {};
    for (const [status, schema] of Object.entries(response)) {
      if (status === "202") patched[status] = { ...schema, headers: POLLING_HEADERS };
      else if (status === "204") patched[status] = { type: "null", description: schema.description };
      else patched[status] = schema;
    }
    return { ...transformed, schema: { ...transformed.schema, response: patched } as JsonSchema };
  };
}
