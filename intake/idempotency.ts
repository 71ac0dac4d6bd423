import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorMessage } from "../shared/core/errors.js";
import { sleep } from "../shared/core/sleep.js";
import type { IdempotencyStore, StoredAnswer } from "../shared/redis/idempotency-store.js";
import { IntakeProblem } from "./problem.js";

/** How long a retry waits for its original, still running, before it is told to come back. */
const PENDING_WAIT_MS = 10_000;
const PENDING_POLL_MS = 100;
/** The headers of an answer that a replay repeats. */
const REPLAYED_HEADERS = ["content-type", "location", "retry-after"];

/**
 * `Idempotency-Key` on POSTs, scoped to the API key: the first request with a key runs and its
 * 2xx answer is kept 24 h; the same request again (same route, same JSON value) gets that answer
 * and adds nothing; another request under the key is 422. A failed first request frees the key.
 */
export function honourIdempotencyKeys(app: FastifyInstance, store: IdempotencyStore): void {
  app.addHook("preValidation", async (request) => {
    if (request.method !== "POST" || idempotencyKey(request) === undefined) return;
    // Taken before validation, which rewrites the body (lower-cased ids...): the JSON value as sent.
    request.intake.fingerprint = createHash("sha256")
      .update(`${request.method} ${request.url.replace(/\?.*/, "")} ${canonicalJson(request.body)}`)
      .digest("hex");
  });

  app.addHook("preHandler", async (request, reply) => {
    const key = idempotencyKey(request);
    const { apiKey, fingerprint } = request.intake;
    if (key === undefined || !apiKey || !fingerprint) return;
    const scope = `${apiKey.name}@${apiKey.createdAt}`;
    const deadline = Date.now() + PENDING_WAIT_MS;
    for (;;) {
      const claim = await store.claim(scope, key, fingerprint);
      if (claim.kind === "claimed") {
        request.intake.claim = claim;
        return;
      }
      if (claim.kind === "replay") return replay(request, reply, claim.answer);
      if (claim.kind === "mismatch")
        throw new IntakeProblem(
          422,
          "This Idempotency-Key was used with another request in the last 24 h; use a new key for a new request.",
        );
      if (Date.now() > deadline)
        throw new IntakeProblem(
          409,
          "A request with this Idempotency-Key is still being answered; retry it.",
          undefined,
          1,
        );
      await sleep(PENDING_POLL_MS);
    }
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const claim = request.intake.claim;
    if (!claim) return payload;
    request.intake.claim = undefined;
    try {
      if (reply.statusCode >= 200 && reply.statusCode < 300 && typeof payload === "string") {
        const headers: Record<string, string> = {};
        for (const name of REPLAYED_HEADERS) {
          const value = reply.getHeader(name);
          if (value !== undefined) headers[name] = String(value);
        }
        await claim.complete({ status: reply.statusCode, headers, body: payload });
      } else await claim.release();
    } catch (err) {
      // The answer still goes out; a retry then finds the key pending, and free once the claim expires.
      request.log.warn({ err: errorMessage(err) }, "could not keep the answer of an Idempotency-Key");
    }
    return payload;
  });
}

function replay(request: FastifyRequest, reply: FastifyReply, answer: StoredAnswer): FastifyReply {
  request.intake.replayed = true;
  return reply
    .code(answer.status)
    .headers({ ...answer.headers, "idempotent-replayed": "true" })
    .serializer((body) => body as string)
    .send(answer.body);
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const value = request.headers["idempotency-key"];
  return typeof value === "string" ? value : undefined;
}

/** The JSON value, with object keys sorted: the same value however its keys were ordered or spaced. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}
