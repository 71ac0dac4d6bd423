import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiKeyRecord, ApiKeyStore } from "../shared/redis/api-key-store.js";
import { IntakeProblem } from "./problem.js";

/** Longer than any key `api-keys create` makes: not worth hashing. */
const MAX_KEY_CHARS = 200;

/**
 * Every route of `app` needs a key: `Authorization: Bearer <key>` or `X-API-Key: <key>`. 401 when
 * missing or unknown; 403 for a read-only key on anything but GET.
 */
export function requireApiKeys(app: FastifyInstance, keys: Pick<ApiKeyStore, "verify">): void {
  app.addHook("onRequest", async (request) => {
    const presented = presentedKey(request);
    if (!presented)
      throw new IntakeProblem(401, "Send an API key as Authorization: Bearer <key> or X-API-Key: <key>.");
    const record = presented.length <= MAX_KEY_CHARS ? await keys.verify(presented) : undefined;
    if (!record)
      throw new IntakeProblem(
        401,
        "The API key is unknown or revoked; mde-cancel api-keys create makes one.",
      );
    request.intake.apiKey = record;
    if (record.readOnly && request.method !== "GET" && request.method !== "HEAD")
      throw new IntakeProblem(403, `API key ${record.name} is read-only: it may only GET.`);
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")?.[1];
  const header = request.headers["x-api-key"];
  return bearer ?? (typeof header === "string" && header.trim() ? header.trim() : undefined);
}

/** The key of a request behind `requireApiKeys`. */
export function apiKeyOf(request: FastifyRequest): ApiKeyRecord {
  const key = request.intake.apiKey;
  if (!key)
    throw new IntakeProblem(401, "Send an API key as Authorization: Bearer <key> or X-API-Key: <key>.");
  return key;
}

/** `requestedBy` of everything a key asks for. */
export function requestedBy(key: ApiKeyRecord): string {
  return `api-key:${key.name}`;
}
