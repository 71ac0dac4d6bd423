/**
 * Environment -> typed `Config`. The only module that reads settings; everything else receives a
 * `Config`. Each setting is written once, in `SETTINGS`: its `Config` field with the documentation
 * an editor shows on hover, its variable, its default and the kind of value it holds. Adding a
 * setting is adding one entry (and its line in README's table and `.env.example`, which a test checks).
 */

import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import type { z } from "zod";
import { UsageError } from "../core/errors.js";
import * as kind from "./value-schemas.js";

/** How one setting is read. */
interface Setting {
  /** The environment variable (or `.env` line) holding it. */
  env: string;
  /** Used when the variable is unset or empty, written as the environment would; without one the field is optional. */
  default?: string;
  /** From the variable's text to the field's value; its messages name what is wrong. */
  schema: z.ZodType<unknown, string>;
  /** Never echoed in error messages: the value may hold credentials. */
  secret?: true;
  /** An empty value is a value, not "unset". */
  keepEmpty?: true;
}

/** Every setting, keyed by its `Config` field; the comment on an entry is that field's documentation. */
export const SETTINGS = {
  /** Redis holding the queues (`redis://` or `rediss://`); a Redis Cluster node is detected at connect. */
  redisUrl: { env: "REDIS_URL", default: "redis://127.0.0.1:6379", schema: kind.redisUrl, secret: true },
  /** BullMQ key prefix; a `{hash-tag}` such as `{mde}` keeps every key of a queue in one Redis Cluster slot. */
  queuePrefix: { env: "QUEUE_PREFIX", default: "bull", schema: kind.keyPrefix },
  /** Queue of cancel jobs. */
  cancelQueue: { env: "CANCEL_QUEUE", default: "mde-cancel", schema: kind.queueName },
  /**
   * Completion queues, each sent every result: one per subscribing service, since consumers of one
   * queue compete. Comma-separated; an empty value publishes none.
   */
  resultsQueues: {
    env: "RESULTS_QUEUE",
    default: "mde-cancel-results",
    schema: kind.queueNames,
    keepEmpty: true,
  },
  /** Finished jobs, results and campaign records stay this long, then BullMQ removes them. */
  resultRetentionMs: { env: "RESULT_RETENTION", default: "7d", schema: kind.retention },
  /** Defender API root, without trailing slash; https only, http for loopback hosts (the simulator). */
  apiBaseUrl: {
    env: "MDE_API_BASE_URL",
    default: "https://api.securitycenter.microsoft.com",
    schema: kind.httpsUrl(true),
  },
  /** OAuth scope of the client-credentials request. */
  tokenScope: {
    env: "MDE_TOKEN_SCOPE",
    default: "https://api.securitycenter.microsoft.com/.default",
    schema: kind.nonEmpty,
  },
  /**
   * JSON file of the tenants this deployment serves (tenant-schema.ts has its shape); read by
   * loadTenants in tenants.ts. Without it, the one tenant of `tenantId`.
   */
  tenantsFile: { env: "MDE_TENANTS_FILE", schema: kind.nonEmpty },
  /**
   * Entra tenant (lower-case GUID). Without a tenants file, the only tenant a job may name, and a
   * worker requires it; with one, the default tenant when the file names none.
   */
  tenantId: { env: "AZURE_TENANT_ID", schema: kind.guid },
  /** App registration (lower-case GUID). A worker requires it, unless every tenant of the file names its own. */
  clientId: { env: "AZURE_CLIENT_ID", schema: kind.guid },
  /** Client secret; a worker requires this or `clientCertificatePath`, not both. */
  clientSecret: { env: "AZURE_CLIENT_SECRET", schema: kind.nonEmpty, secret: true },
  /** PEM holding the certificate and its private key, instead of a secret. */
  clientCertificatePath: { env: "AZURE_CLIENT_CERTIFICATE_PATH", schema: kind.nonEmpty },
  /** Passphrase of an encrypted private key in that PEM, as @azure/identity takes it. */
  clientCertificatePassword: {
    env: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    schema: kind.nonEmpty,
    secret: true,
  },
  /** Entra authority, https only (`https://login.microsoftonline.us` for GCC High and DoD). */
  authorityHost: {
    env: "AZURE_AUTHORITY_HOST",
    default: "https://login.microsoftonline.com",
    schema: kind.httpsUrl(false),
  },
  /** Budget of each Defender endpoint per tenant and app, shared by all workers: Microsoft's documented one. */
  rateLimits: { env: "MDE_RATE_LIMITS", default: "100/1m,1500/1h", schema: kind.rateLimits },
  /** Share of every window campaigns may use, so urgent cancels always find budget. */
  campaignBudgetShare: { env: "CAMPAIGN_BUDGET_SHARE", default: "0.8", schema: kind.share },
  /** Jobs one worker process handles at once. */
  workerConcurrency: { env: "WORKER_CONCURRENCY", default: "10", schema: kind.int(1, 1000) },
  /**
   * How long a worker gathers its jobs' state checks before sending them as one list call of up to
   * 40 ids (each check waits at most this long); 0 sends one GET per check.
   */
  checkGatherMs: { env: "CHECK_GATHER_MS", default: "5", schema: kind.int(0, 1000) },
  /** Attempts for transient failures (5xx, network, timeout) before the outcome is `failed`/`upstream`. */
  maxAttempts: { env: "MAX_ATTEMPTS", default: "6", schema: kind.int(1, 100) },
  /**
   * A job still answered 429 this long after its first try fails `throttled`; also bounds waiting
   * for an unreachable Entra ID. A day: a throttling storm longer than that is an incident, not a blip.
   */
  throttleGiveUpMs: { env: "THROTTLE_GIVE_UP_MS", default: "86400000", schema: kind.int(1) },
  /** On SIGTERM, how long in-flight jobs may finish before they are put back. */
  shutdownTimeoutMs: { env: "SHUTDOWN_TIMEOUT_MS", default: "30000", schema: kind.int(0) },
  /** Timeout of one Defender or Entra ID request. */
  httpTimeoutMs: { env: "HTTP_TIMEOUT_MS", default: "30000", schema: kind.int(1) },
  /** How long a 404 is re-checked before `not_found`: Defender can 404 a fresh action for a few seconds. */
  notFoundGraceMs: { env: "NOT_FOUND_GRACE_MS", default: "30000", schema: kind.int(0) },
  /** Port of the worker's /metrics, /healthz and /readyz; 0 turns them off. */
  metricsPort: { env: "METRICS_PORT", default: "9464", schema: kind.int(0, 65535) },
  /** Address they listen on: Prometheus scrapes from another host, so every interface by default. */
  metricsHost: { env: "METRICS_HOST", default: "0.0.0.0", schema: kind.nonEmpty },
  /** Port of the read-only queue dashboard at /admin/queues; unset (or 0): no dashboard. */
  dashboardPort: { env: "DASHBOARD_PORT", schema: kind.optionalPort },
  /**
   * The dashboard's address. It can show job data, so only this host by default; any non-loopback
   * address requires `dashboardUser` and `dashboardPassword`.
   */
  dashboardHost: { env: "DASHBOARD_HOST", default: "127.0.0.1", schema: kind.nonEmpty },
  /** Basic-auth user of the dashboard; with `dashboardPassword`, required on loopback too. */
  dashboardUser: { env: "DASHBOARD_USER", schema: kind.nonEmpty },
  /** Basic-auth password of the dashboard. */
  dashboardPassword: { env: "DASHBOARD_PASSWORD", schema: kind.nonEmpty, secret: true },
  /** Job lock a worker renews; a crashed worker's jobs are taken over about this long after. */
  workerLockMs: { env: "WORKER_LOCK_MS", default: "30000", schema: kind.int(1000) },
  /** pino level; JSON lines on stdout. `debug` adds one line per HTTP exchange and stack traces. */
  logLevel: { env: "LOG_LEVEL", default: "info", schema: kind.logLevel },

  // HTTP intake (`mde-cancel serve`).
  /** Port of `mde-cancel serve`. */
  intakePort: { env: "INTAKE_PORT", default: "8080", schema: kind.int(0, 65535) },
  /** Its address: playbooks call from other hosts. */
  intakeHost: { env: "INTAKE_HOST", default: "0.0.0.0", schema: kind.nonEmpty },
  /** Requests per API key in one fixed window; generous, as Tines, Splunk SOAR and n8n ignore Retry-After. */
  intakeRateLimit: { env: "INTAKE_RATE_LIMIT", default: "600/1m", schema: kind.rateWindow },
  /** The absolute base of `Location` and `statusUrl` behind a proxy; unset: from each request's Host. */
  intakePublicUrl: { env: "INTAKE_PUBLIC_URL", schema: kind.publicUrl },
  /** `whsec_<base64>`: signs callbacks; unset: a request with a `callbackUrl` is refused. */
  intakeWebhookSecret: { env: "INTAKE_WEBHOOK_SECRET", schema: kind.webhookSecret, secret: true },
  /** `host[:port]` allowed as callback targets although private or loopback. */
  intakeCallbackHosts: { env: "INTAKE_CALLBACK_HOSTS", schema: kind.hostList },
  /** How long audit records are kept: long enough for an incident review a quarter later. */
  auditRetentionMs: { env: "AUDIT_RETENTION", default: "90d", schema: kind.retention },
} satisfies Record<string, Setting>;

type Settings = typeof SETTINGS;
type Value<K extends keyof Settings> = z.output<Settings[K]["schema"]>;
type Defaulted<K extends keyof Settings> = Settings[K] extends { default: string } ? K : never;

/**
 * The settings, typed. Fields with a default are always present; the others are optional. Each
 * field's documentation is on its entry in `SETTINGS` (an editor shows it on hover).
 */
export type Config = Flat<
  { [K in keyof Settings as Defaulted<K>]: Value<K> } & {
    [K in keyof Settings as Exclude<K, Defaulted<K>>]?: Value<K>;
  }
>;
type Flat<T> = { [K in keyof T]: T[K] };

/** Reads `.env` from `cwd` (when present) under the real environment, which wins. */
export function readEnvironment(env: NodeJS.ProcessEnv, cwd: string): Record<string, string | undefined> {
  const file = `${cwd}/.env`;
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  return { ...fromFile, ...env };
}

/** Parses the settings; throws a UsageError naming every malformed variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [field, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    const given = env[setting.env];
    // An empty value means "unset", as shells and .env files write it.
    const unset = given === undefined || (given.trim() === "" && !setting.keepEmpty);
    const value = unset ? setting.default : given;
    if (value === undefined) continue;
    const parsed = setting.schema.safeParse(value);
    if (parsed.success) {
      config[field] = parsed.data;
      continue;
    }
    const shown = setting.secret ? "" : `=${JSON.stringify(value)}`;
    for (const issue of parsed.error.issues) problems.push(`${setting.env}${shown} ${issue.message}`);
  }
  if (problems.length > 0) throw new UsageError(`Invalid configuration: ${problems.join("; ")}.`);
  return config as Config;
}
