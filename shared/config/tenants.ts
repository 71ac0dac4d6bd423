/**
 * MDE_TENANTS_FILE -> a `TenantDirectory`. A pure function of (config, environment, file reader),
 * so `worker` and `serve` can call it again on SIGHUP: it returns a new directory or throws a
 * UsageError naming every bad entry and field, and the caller keeps the directory it had.
 * Without the file, the one tenant of AZURE_TENANT_ID, exactly as before tenants existed.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import { UsageError } from "../core/errors.js";
import type { Config } from "./config.js";
import { requireWorkerCredentials } from "./credentials.js";
import { resolveCredential, secretCredential } from "./tenant-credential.js";
import { TenantDirectory, type TenantInfo, type TenantSettings } from "./tenant-directory.js";
import { type TenantEntry, tenantsFileSchema } from "./tenant-schema.js";

export interface TenantSource {
  config: Config;
  /** The environment as `readEnvironment` gives it (`.env` included): `clientSecretEnv` reads it. */
  env: Record<string, string | undefined>;
  /** Reads a UTF-8 file (default: node:fs); tests pass their own. */
  readFile?: (path: string) => string;
}

/** Every tenant with its app and credential, for the commands that call Entra ID and Defender. */
export function loadTenants(source: TenantSource): TenantDirectory<TenantSettings> {
  return load(source, true) as TenantDirectory<TenantSettings>;
}

/**
 * Every tenant without reading a credential, for producers (`enqueue`, `campaign`, `status`...),
 * which resolve names and budgets but hold no secret and may run where none is set.
 */
export function loadTenantInfo(source: TenantSource): TenantDirectory<TenantInfo> {
  return load(source, false);
}

function load(source: TenantSource, withCredentials: boolean): TenantDirectory<TenantInfo> {
  const { config } = source;
  const file = config.tenantsFile;
  if (file === undefined) return fromEnvironment(config, withCredentials);
  const readFile = source.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const where = `MDE_TENANTS_FILE ${file}`;
  let json: unknown;
  try {
    json = JSON.parse(readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined || !(err instanceof SyntaxError))
      throw new UsageError(
        `${where} cannot be read (${code ?? "unreadable"}); point it at the tenants JSON file.`,
      );
    // V8 quotes the text around the error; the reason and position are enough.
    throw new UsageError(`${where} is not valid JSON (${err.message.split(', "')[0]}); fix the file.`);
  }
  const parsed = tenantsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageError(`${where}: ${parsed.error.issues.map((i) => describeIssue(i, json)).join("; ")}.`);

  const problems: string[] = [];
  const sources = {
    config,
    env: source.env,
    readFile,
    resolvePath: (path: string) => resolve(dirname(file), path),
  };
  const tenants = parsed.data.tenants.map((entry, index): TenantInfo => {
    const info = tenantInfo(entry, config);
    if (!withCredentials) return info;
    const subject = entryLabel(index, entry.name);
    const clientId = entry.clientId ?? config.clientId;
    if (clientId === undefined)
      problems.push(`${subject} has no clientId, and AZURE_CLIENT_ID is not set; set either`);
    const credential = resolveCredential(entry, sources);
    if (typeof credential === "string") problems.push(`${subject} ${credential}`);
    return { ...info, clientId, credential } as TenantSettings;
  });
  const defaultTenant = pickDefault(tenants, parsed.data.defaultTenant, config.tenantId, problems);
  if (problems.length > 0) throw new UsageError(`${where}: ${problems.join("; ")}.`);
  return new TenantDirectory(tenants, defaultTenant, file);
}

function tenantInfo(entry: TenantEntry, config: Config): TenantInfo {
  return {
    tenantId: entry.id,
    name: entry.name,
    authorityHost: entry.authorityHost ?? config.authorityHost,
    apiBaseUrl: entry.apiBaseUrl ?? config.apiBaseUrl,
    tokenScope: entry.tokenScope ?? config.tokenScope,
    rateLimits: entry.rateLimits ?? config.rateLimits,
    campaignBudgetShare: entry.campaignBudgetShare ?? config.campaignBudgetShare,
  };
}

/**
 * `defaultTenant` from the file; else AZURE_TENANT_ID, which must then be listed; else the only
 * tenant. A file of several tenants naming none has no default: jobs must name their tenant,
 * rather than one customer's cancels landing in another's tenant by accident.
 */
function pickDefault(
  tenants: TenantInfo[],
  named: string | undefined,
  azureTenantId: string | undefined,
  problems: string[],
): TenantInfo | undefined {
  const find = (key: string) =>
    tenants.find((t) => t.tenantId === key.toLowerCase() || t.name.toLowerCase() === key.toLowerCase());
  if (named !== undefined) return find(named);
  if (azureTenantId === undefined) return tenants.length === 1 ? tenants[0] : undefined;
  const found = find(azureTenantId);
  if (!found)
    problems.push(
      `AZURE_TENANT_ID ${azureTenantId} is not one of its tenants; add it, or name the default with defaultTenant`,
    );
  return found;
}

function fromEnvironment(config: Config, withCredentials: boolean): TenantDirectory<TenantInfo> {
  const info = (tenantId: string): TenantInfo => tenantInfo({ id: tenantId, name: tenantId }, config);
  if (withCredentials) {
    const { tenantId, clientId, credential } = requireWorkerCredentials(config);
    const hidden = credential.kind === "secret" ? secretCredential(credential.secret) : credential;
    const tenant: TenantSettings = { ...info(tenantId), clientId, credential: hidden };
    return new TenantDirectory([tenant], tenant);
  }
  if (config.tenantId === undefined) return new TenantDirectory([], undefined);
  const tenant = info(config.tenantId);
  return new TenantDirectory([tenant], tenant);
}

/** `tenants[1] ("fabrikam")`: the entry by position, and by name when it has a readable one. */
function entryLabel(index: number, name: unknown): string {
  return typeof name === "string" && name.length <= 64
    ? `tenants[${index}] (${JSON.stringify(name)})`
    : `tenants[${index}]`;
}

const SECRET_HINT = " (secrets never sit in the file: name them with clientSecretEnv or clientSecretFile)";

/** One zod issue as `<entry>.<field> <value> <what is wrong>`; never the value of clientSecretEnv. */
function describeIssue(issue: z.core.$ZodIssue, json: unknown): string {
  const path = issue.path;
  const value = path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown>)?.[key], json);
  let subject = path.length === 0 ? "the file" : path.map(String).join(".");
  if (path[0] === "tenants" && typeof path[1] === "number") {
    const entry = (json as { tenants: Record<string, unknown>[] }).tenants[path[1]];
    subject =
      entryLabel(path[1], entry?.name) +
      path
        .slice(2)
        .map((key) => `.${String(key)}`)
        .join("");
  }
  if (issue.code === "unrecognized_keys") {
    const secretLike = issue.keys.some((key) => /secret|password|key$/i.test(key));
    const fields = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return `${subject} has unknown field${issue.keys.length > 1 ? "s" : ""} ${fields}${secretLike ? SECRET_HINT : ""}`;
  }
  if (issue.code === "invalid_type") {
    if (value === undefined) return `${subject} is missing`;
    const expected =
      issue.expected === "object"
        ? "a JSON object"
        : issue.expected === "array"
          ? "an array"
          : `a ${issue.expected}`;
    return `${subject} must be ${expected}`;
  }
  const shown =
    (typeof value === "string" || typeof value === "number") && path.at(-1) !== "clientSecretEnv"
      ? ` ${JSON.stringify(value).slice(0, 100)}`
      : "";
  return `${subject}${shown} ${issue.message}`;
}
