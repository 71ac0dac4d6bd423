import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { z } from "zod";
import { GUID_PATTERN } from "../contract/guid.js";
import { UsageError } from "../core/errors.js";
import { isLoopbackHost } from "../core/loopback.js";
import { parseDuration, parseRateLimits, type RateWindow } from "./durations.js";

/**
 * Every setting of the contract, with its default. This is the only module that reads the
 * environment; everything else receives the typed `Config`.
 */
export const DEFAULTS = {
  /** Redis holding the queues. */
  REDIS_URL: "redis://127.0.0.1:6379",
  /** BullMQ key prefix; a `{hash-tag}` keeps every key of a queue in one Redis Cluster slot. */
  QUEUE_PREFIX: "bull",
  CANCEL_QUEUE: "mde-cancel",
  /** Comma-separated: one queue per subscribing service, since consumers of one queue compete. */
  RESULTS_QUEUE: "mde-cancel-results",
  /** Finished jobs and results stay this long, then BullMQ removes them. */
  RESULT_RETENTION: "7d",
  MDE_API_BASE_URL: "https://api.securitycenter.microsoft.com",
  MDE_TOKEN_SCOPE: "https://api.securitycenter.microsoft.com/.default",
  AZURE_AUTHORITY_HOST: "https://login.microsoftonline.com",
  /** Microsoft's documented budget of each endpoint, per tenant and app. */
  MDE_RATE_LIMITS: "100/1m,1500/1h",
  /** Campaigns use at most this share of every window, so urgent cancels always find budget. */
  CAMPAIGN_BUDGET_SHARE: "0.8",
  WORKER_CONCURRENCY: "10",
  MAX_ATTEMPTS: "6",
  /** A day: a throttling storm longer than that is an incident, not a blip. */
  THROTTLE_GIVE_UP_MS: "86400000",
  SHUTDOWN_TIMEOUT_MS: "30000",
  HTTP_TIMEOUT_MS: "30000",
  /** Defender can 404 a freshly created action for a few seconds. */
  NOT_FOUND_GRACE_MS: "30000",
  METRICS_PORT: "9464",
  /** Prometheus scrapes from another host, so every interface by default. */
  METRICS_HOST: "0.0.0.0",
  /** The dashboard can show job data, so only this host by default; basic auth is required elsewhere. */
  DASHBOARD_HOST: "127.0.0.1",
  /** A worker renews its job locks; a crashed worker's jobs are taken over about this long after. */
  WORKER_LOCK_MS: "30000",
  LOG_LEVEL: "info",
} as const;

/** Values never echoed in error messages: they may hold credentials. */
const SECRET_KEYS = new Set([
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  "REDIS_URL",
  "DASHBOARD_PASSWORD",
]);

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const httpsUrl = (allowLoopbackHttp: boolean) =>
  z.string().transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an absolute URL" });
      return z.NEVER;
    }
    const loopbackHttp = allowLoopbackHttp && url.protocol === "http:" && isLoopbackHost(url.hostname);
    if (url.protocol !== "https:" && !loopbackHttp) {
      ctx.addIssue({
        code: "custom",
        message: allowLoopbackHttp
          ? "must be https:// (http:// only for loopback hosts)"
          : "must be https://",
      });
      return z.NEVER;
    }
    return url.origin + url.pathname.replace(/\/+$/, "");
  });

const guid = z
  .string()
  .regex(GUID_PATTERN, "must be a GUID")
  .transform((s) => s.toLowerCase());

const schema = z.object({
  REDIS_URL: z
    .string()
    .refine((s) => /^rediss?:\/\/./.test(s), "must start with redis:// or rediss://")
    .refine((s) => URL.canParse(s), "is not a valid URL"),
  QUEUE_PREFIX: z.string().regex(/^[^:\s]+$/, "must be non-empty, without ':' or spaces"),
  CANCEL_QUEUE: z.string().regex(/^[^:\s,]+$/, "must be non-empty, without ':', ',' or spaces"),
  RESULTS_QUEUE: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((q) => q.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^:\s]+$/, "names queues without ':' or spaces"))),
  RESULT_RETENTION: z
    .string()
    .transform(
      (s, ctx) => parseDuration(s, ["s", "m", "h", "d"]) ?? invalid(ctx, "must be <int><s|m|h|d>, e.g. 7d"),
    ),
  MDE_API_BASE_URL: httpsUrl(true),
  MDE_TOKEN_SCOPE: z.string().min(1, "must not be empty"),
  AZURE_TENANT_ID: guid.optional(),
  AZURE_CLIENT_ID: guid.optional(),
  AZURE_CLIENT_SECRET: z.string().min(1).optional(),
  AZURE_CLIENT_CERTIFICATE_PATH: z.string().min(1).optional(),
  AZURE_CLIENT_CERTIFICATE_PASSWORD: z.string().min(1).optional(),
  AZURE_AUTHORITY_HOST: httpsUrl(false),
  MDE_RATE_LIMITS: z
    .string()
    .transform(
      (s, ctx): RateWindow[] =>
        parseRateLimits(s) ?? invalid(ctx, "must be comma-separated N/<int><ms|s|m|h>, e.g. 100/1m,1500/1h"),
    ),
  CAMPAIGN_BUDGET_SHARE: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, "must be a number in (0, 1]")
    .transform(Number)
    .pipe(z.number().gt(0, "must be greater than 0").max(1)),
  WORKER_CONCURRENCY: int(1, 1000),
  MAX_ATTEMPTS: int(1, 100),
  THROTTLE_GIVE_UP_MS: int(1),
  SHUTDOWN_TIMEOUT_MS: int(0),
  HTTP_TIMEOUT_MS: int(1),
  NOT_FOUND_GRACE_MS: int(0),
  METRICS_PORT: int(0, 65535),
  METRICS_HOST: z.string().min(1, "must not be empty"),
  DASHBOARD_PORT: int(0, 65535).optional(),
  DASHBOARD_HOST: z.string().min(1, "must not be empty"),
  DASHBOARD_USER: z.string().min(1).optional(),
  DASHBOARD_PASSWORD: z.string().min(1).optional(),
  WORKER_LOCK_MS: int(1000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
});

function invalid(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER as never;
}

export interface Config {
  redisUrl: string;
  queuePrefix: string;
  cancelQueue: string;
  resultsQueues: string[];
  resultRetentionMs: number;
  apiBaseUrl: string;
  tokenScope: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  clientCertificatePath?: string;
  /** Passphrase of an encrypted private key in the certificate's PEM. */
  clientCertificatePassword?: string;
  authorityHost: string;
  rateLimits: RateWindow[];
  campaignBudgetShare: number;
  workerConcurrency: number;
  maxAttempts: number;
  throttleGiveUpMs: number;
  shutdownTimeoutMs: number;
  httpTimeoutMs: number;
  notFoundGraceMs: number;
  metricsPort: number;
  metricsHost: string;
  /** Unset (or 0): no dashboard. */
  dashboardPort?: number;
  dashboardHost: string;
  dashboardUser?: string;
  dashboardPassword?: string;
  workerLockMs: number;
  logLevel: z.infer<typeof schema>["LOG_LEVEL"];
}

/** Reads `.env` from `cwd` (when present) under the real environment, which wins. */
export function readEnvironment(env: NodeJS.ProcessEnv, cwd: string): Record<string, string | undefined> {
  const file = `${cwd}/.env`;
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  return { ...fromFile, ...env };
}

/** Parses the settings; throws a UsageError naming every missing or malformed variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // An empty value means "unset", as shells and .env files write it; RESULTS_QUEUE= means "publish none".
    const unset = value === undefined || (value.trim() === "" && key !== "RESULTS_QUEUE");
    input[key] = unset ? DEFAULTS[key as keyof typeof DEFAULTS] : value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      const shown = SECRET_KEYS.has(key) ? "" : `=${JSON.stringify(input[key])}`;
      return `${key}${shown} ${issue.message}`;
    });
    throw new UsageError(`Invalid configuration: ${problems.join("; ")}.`);
  }
  const e = parsed.data;
  return {
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    cancelQueue: e.CANCEL_QUEUE,
    resultsQueues: e.RESULTS_QUEUE,
    resultRetentionMs: e.RESULT_RETENTION,
    apiBaseUrl: e.MDE_API_BASE_URL,
    tokenScope: e.MDE_TOKEN_SCOPE,
    tenantId: e.AZURE_TENANT_ID,
    clientId: e.AZURE_CLIENT_ID,
    clientSecret: e.AZURE_CLIENT_SECRET,
    clientCertificatePath: e.AZURE_CLIENT_CERTIFICATE_PATH,
    clientCertificatePassword: e.AZURE_CLIENT_CERTIFICATE_PASSWORD,
    authorityHost: e.AZURE_AUTHORITY_HOST,
    rateLimits: e.MDE_RATE_LIMITS,
    campaignBudgetShare: e.CAMPAIGN_BUDGET_SHARE,
    workerConcurrency: e.WORKER_CONCURRENCY,
    maxAttempts: e.MAX_ATTEMPTS,
    throttleGiveUpMs: e.THROTTLE_GIVE_UP_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    httpTimeoutMs: e.HTTP_TIMEOUT_MS,
    notFoundGraceMs: e.NOT_FOUND_GRACE_MS,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    dashboardPort: e.DASHBOARD_PORT || undefined,
    dashboardHost: e.DASHBOARD_HOST,
    dashboardUser: e.DASHBOARD_USER,
    dashboardPassword: e.DASHBOARD_PASSWORD,
    workerLockMs: e.WORKER_LOCK_MS,
    logLevel: e.LOG_LEVEL,
  };
}

/** What a worker needs beyond the common settings: a tenant, an app and one credential. */
export interface WorkerCredentials {
  tenantId: string;
  clientId: string;
  credential: { kind: "secret"; secret: string } | { kind: "certificate"; path: string; password?: string };
}

export function requireWorkerCredentials(config: Config): WorkerCredentials {
  const missing = [
    config.tenantId ? undefined : "AZURE_TENANT_ID",
    config.clientId ? undefined : "AZURE_CLIENT_ID",
    config.clientSecret || config.clientCertificatePath
      ? undefined
      : "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH",
  ].filter(Boolean);
  if (missing.length > 0)
    throw new UsageError(`A worker needs ${missing.join(", ")}; set it in the environment or .env.`);
  if (config.clientSecret && config.clientCertificatePath)
    throw new UsageError("Set either AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, not both.");
  return {
    tenantId: config.tenantId as string,
    clientId: config.clientId as string,
    credential: config.clientSecret
      ? { kind: "secret", secret: config.clientSecret }
      : {
          kind: "certificate",
          path: config.clientCertificatePath as string,
          password: config.clientCertificatePassword,
        },
  };
}
