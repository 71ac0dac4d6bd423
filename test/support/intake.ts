import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import type { IntakeDeps } from "../../intake/deps.js";
import { type RunningIntake, startIntake } from "../../intake/serve.js";
import { type Config, parseConfig } from "../../shared/config/config.js";
import { type ApiKeyRecord, ApiKeyStore } from "../../shared/redis/api-key-store.js";
import { keyPrefix } from "../../shared/redis/queues.js";
import { TENANT } from "./harness.js";
import { capturingLogger } from "./log-lines.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "./redis.js";

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, when it is. */
  // biome-ignore lint/suspicious/noExplicitAny: whatever the server sent; the tests' assertions check its shape.
  body: any;
}

export interface CallOptions {
  key?: string;
  body?: unknown;
  /** Sent as is (bad JSON, another media type). */
  raw?: string;
  headers?: Record<string, string>;
}

/** A running `serve` on loopback, its own Redis prefix, and what a test needs around it. */
export interface TestIntake {
  url: string;
  config: Config;
  /** Every log line the intake wrote. */
  logs: string[];
  keys: ApiKeyStore;
  cancelQueue: Queue;
  redis: Redis;
  newKey(fields?: Partial<Omit<ApiKeyRecord, "createdAt">>): Promise<string>;
  /** What SIGHUP does to `serve`: MDE_TENANTS_FILE read again. */
  reloadTenants(): void;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * Starts the intake as `mde-cancel serve` does (startIntake, listening on 127.0.0.1, port 0), on
 * `env` (a harness's, to share its queue and simulator) or on a fresh prefix.
 */
export async function startTestIntake(
  options: { env?: Record<string, string>; overrides?: Partial<IntakeDeps> } = {},
): Promise<TestIntake> {
  const ownPrefix = options.env?.QUEUE_PREFIX ? undefined : uniquePrefix();
  const env = {
    REDIS_URL,
    AZURE_TENANT_ID: TENANT,
    ...(ownPrefix ? { QUEUE_PREFIX: ownPrefix } : {}),
    ...options.env,
    INTAKE_HOST: "127.0.0.1",
    INTAKE_PORT: "0",
    LOG_LEVEL: "debug",
  };
  const config = parseConfig(env);
  const logs: string[] = [];
  const running: RunningIntake = await startIntake(
    { config, env },
    capturingLogger("debug", logs),
    options.overrides,
  );
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const keys = new ApiKeyStore(redis, keyPrefix(config));
  const cancelQueue = new Queue(config.cancelQueue, { connection: redis, prefix: config.queuePrefix });
  const url = `http://127.0.0.1:${running.port}`;
  let n = 0;
  return {
    url,
    config,
    logs,
    keys,
    cancelQueue,
    redis,
    reloadTenants: () => running.reloadTenants(),
    async newKey(fields = {}) {
      n += 1;
      const { key } = await keys.create({ name: `key-${n}`, tenants: [], readOnly: false, ...fields });
      return key;
    },
    async call(method, path, { key, body, raw, headers = {} } = {}) {
      const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(payload !== undefined && raw === undefined ? { "content-type": "application/json" } : {}),
          ...(key ? { "x-api-key": key } : {}),
          ...headers,
        },
        body: payload,
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, text, body: parsed };
    },
    async close() {
      await running.close();
      await cancelQueue.close();
      redis.disconnect();
      if (ownPrefix) await deleteKeys(ownPrefix);
    },
  };
}

/** One intake and one read-write key for all the tests of a file (started before, closed after). */
export function intakeForFile(): {
  readonly intake: TestIntake;
  readonly key: string;
  /** A call with the file's key, unless `options.key` says otherwise. */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
} {
  const shared = {} as { intake: TestIntake; key: string };
  beforeAll(async () => {
    shared.intake = await startTestIntake();
    shared.key = await shared.intake.newKey();
  });
  afterAll(() => shared.intake.close());
  return {
    get intake() {
      return shared.intake;
    },
    get key() {
      return shared.key;
    },
    call: (method, path, options = {}) => shared.intake.call(method, path, { key: shared.key, ...options }),
  };
}

/** A fresh GUID. */
export function guid(): string {
  return crypto.randomUUID();
}
