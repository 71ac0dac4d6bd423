import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { UsageError } from "../core/errors.js";
import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

/** What is known about a key, never the key itself: only its SHA-256 is stored. */
export interface ApiKeyRecord {
  name: string;
  /** Tenant ids the key may act on; empty: every tenant. */
  tenants: string[];
  /** May only GET. */
  readOnly: boolean;
  createdAt: string;
}

/** A key's name as it appears in `requestedBy` (`api-key:<name>`), logs and the audit trail. */
export const API_KEY_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** 32 random bytes (256 bits): nobody guesses one, so a hash without salt or stretching is enough. */
const KEY_BYTES = 32;

interface Stored extends ApiKeyRecord {
  hash: string;
}

// KEYS: name -> hash, hash -> record; ARGV: name, hash, record JSON. A name is taken once.
const CREATE = `
if redis.call("HSETNX", KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call("HSET", KEYS[2], ARGV[2], ARGV[3])
return 1
`;

// KEYS: name -> hash, hash -> record; ARGV: name. Returns 1 when the key existed.
const REVOKE = `
local hash = redis.call("HGET", KEYS[1], ARGV[1])
if not hash then return 0 end
redis.call("HDEL", KEYS[2], hash)
redis.call("HDEL", KEYS[1], ARGV[1])
return 1
`;

/**
 * The API keys of `mde-cancel serve`, in Redis (kept until revoked). A key is `mdk_` and the
 * base64url of 32 random bytes; it is shown once, at creation, and only its SHA-256 is kept.
 */
export class ApiKeyStore {
  private readonly createScript: LuaScript<number>;
  private readonly revokeScript: LuaScript<number>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {
    this.createScript = defineScript(redis, "mdeApiKeyCreate", 2, CREATE);
    this.revokeScript = defineScript(redis, "mdeApiKeyRevoke", 2, REVOKE);
  }

  /** Creates a key; the returned `key` is the only copy there will ever be. */
  async create(fields: Omit<ApiKeyRecord, "createdAt">): Promise<{ record: ApiKeyRecord; key: string }> {
    if (!API_KEY_NAME_PATTERN.test(fields.name))
      throw new UsageError(
        `--name ${JSON.stringify(fields.name)} must be 1-64 letters, digits, '.', '_' or '-'.`,
      );
    const key = `mdk_${randomBytes(KEY_BYTES).toString("base64url")}`;
    const record: ApiKeyRecord = { ...fields, createdAt: new Date().toISOString() };
    const stored: Stored = { ...record, hash: hashKey(key) };
    const created = await this.createScript(...this.keys(), fields.name, stored.hash, JSON.stringify(stored));
    if (created === 0)
      throw new UsageError(
        `An API key named ${fields.name} exists already; choose another --name, or revoke it first.`,
      );
    return { record, key };
  }

  /** The key's record, or undefined for a key that is unknown or revoked: one round trip per request. */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    const hash = hashKey(key);
    const text = await this.redis.hget(this.keys()[1], hash);
    if (!text) return undefined;
    const stored = JSON.parse(text) as Stored;
    // The lookup found the hash already; comparing it in constant time costs nothing and leaks nothing.
    if (!timingSafeEqual(Buffer.from(stored.hash, "hex"), Buffer.from(hash, "hex"))) return undefined;
    return withoutHash(stored);
  }

  /** Every key's record, by name; neither keys nor hashes. */
  async list(): Promise<ApiKeyRecord[]> {
    const all = await this.redis.hvals(this.keys()[1]);
    return all
      .map((text) => withoutHash(JSON.parse(text) as Stored))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Revokes the key of that name at once; false when there is none. */
  async revoke(name: string): Promise<boolean> {
    return (await this.revokeScript(...this.keys(), name)) === 1;
  }

  /** Name -> hash (names are unique), and hash -> record (what a request looks up). */
  private keys(): [string, string] {
    return [`${this.prefix}:api-keys:by-name`, `${this.prefix}:api-keys:by-hash`];
  }
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

function withoutHash(stored: Stored): ApiKeyRecord {
  return {
    name: stored.name,
    tenants: stored.tenants,
    readOnly: stored.readOnly,
    createdAt: stored.createdAt,
  };
}
