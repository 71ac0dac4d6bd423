import { createHash, randomUUID } from "node:crypto";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

/** The first answer to a request, replayed to its retries. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type IdempotencyClaim =
  /** First of its key: run the request, then `complete` (2xx) or `release` (anything else). */
  | { kind: "claimed"; complete(answer: StoredAnswer): Promise<void>; release(): Promise<void> }
  /** The same request was answered before: send this again. */
  | { kind: "replay"; answer: StoredAnswer }
  /** The key was used with another request. */
  | { kind: "mismatch" }
  /** The same request is being answered right now (a retry raced its original). */
  | { kind: "pending" };

interface Entry {
  fingerprint: string;
  /** Set while the first request runs; only its owner may complete or release. */
  owner?: string;
  answer?: StoredAnswer;
}

export interface IdempotencyOptions {
  /** How long an answer is replayed (the contract: 24 h). */
  ttlMs?: number;
  /** How long a claim holds without an answer: a server that died mid-request frees the key after this. */
  pendingMs?: number;
}

// KEYS: entry; ARGV: the pending entry (exact text), the final entry, ttlMs. Empty final entry: release.
const SETTLE = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == "" then return redis.call("DEL", KEYS[1]) end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
return 1
`;

/**
 * `Idempotency-Key` for the HTTP intake: per scope (an API key) and key, the first request claims
 * the key atomically (SET NX), so of two identical requests racing only one runs; the other is told
 * it is pending, then replays the first answer once stored.
 */
export class IdempotencyStore {
  private readonly settle: LuaScript<number>;
  private readonly ttlMs: number;
  private readonly pendingMs: number;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    options: IdempotencyOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 86_400_000;
    this.pendingMs = options.pendingMs ?? 60_000;
    this.settle = defineScript(redis, "mdeIdempotencySettle", 1, SETTLE);
  }

  /** `fingerprint` identifies the request (method, route, canonical body): another one under the key is a mismatch. */
  async claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const entryKey = `${this.prefix}:idempotency:${sha256(scope)}:${sha256(key)}`;
    for (;;) {
      const pending = JSON.stringify({ fingerprint, owner: randomUUID() } satisfies Entry);
      if ((await this.redis.set(entryKey, pending, "PX", this.pendingMs, "NX")) === "OK") {
        return {
          kind: "claimed",
          complete: async (answer) => {
            const done = JSON.stringify({ fingerprint, answer } satisfies Entry);
            await this.settle(entryKey, pending, done, this.ttlMs);
          },
          release: async () => void (await this.settle(entryKey, pending, "", 0)),
        };
      }
      const text = await this.redis.get(entryKey);
      if (text === null) continue; // expired or released between the two calls: claim again
      const entry = JSON.parse(text) as Entry;
      if (entry.fingerprint !== fingerprint) return { kind: "mismatch" };
      return entry.answer ? { kind: "replay", answer: entry.answer } : { kind: "pending" };
    }
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
