import { errorMessage } from "../core/errors.js";
import type { Config } from "./config.js";
import type { TenantCredential } from "./tenant-directory.js";
import type { TenantEntry } from "./tenant-schema.js";

/** Where a tenant's credential is read from: the environment and files, never the tenants file. */
export interface CredentialSources {
  config: Config;
  env: Record<string, string | undefined>;
  /** Reads a UTF-8 file; `path` is already absolute. */
  readFile: (path: string) => string;
  /** Resolves a path written in the tenants file (relative to the file's folder). */
  resolvePath: (path: string) => string;
}

/**
 * A tenant's own credential, else the deployment's (one multi-tenant app consented in every
 * customer tenant); a string saying what is wrong otherwise. Messages name the variable or file,
 * never what it holds.
 */
export function resolveCredential(entry: TenantEntry, sources: CredentialSources): TenantCredential | string {
  const { config, env } = sources;
  if (entry.clientSecretEnv !== undefined) {
    const secret = env[entry.clientSecretEnv]?.trim();
    return secret
      ? secretCredential(secret)
      : `clientSecretEnv names ${entry.clientSecretEnv}, which is not set or empty; set it in the environment or .env`;
  }
  if (entry.clientSecretFile !== undefined) {
    const path = sources.resolvePath(entry.clientSecretFile);
    let text: string;
    try {
      text = sources.readFile(path);
    } catch (err) {
      return `clientSecretFile ${path} cannot be read (${errorCode(err)}); point it at a file holding the secret`;
    }
    const secret = text.trim();
    return secret ? secretCredential(secret) : `clientSecretFile ${path} is empty; write the secret in it`;
  }
  if (entry.clientCertificatePath !== undefined)
    return { kind: "certificate", path: sources.resolvePath(entry.clientCertificatePath) };
  if (config.clientSecret && config.clientCertificatePath)
    return "uses the deployment's credential, but both AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are set; keep one";
  if (config.clientSecret) return secretCredential(config.clientSecret);
  if (config.clientCertificatePath)
    return certificateCredential(config.clientCertificatePath, config.clientCertificatePassword);
  return "has no credential; give it clientSecretEnv, clientSecretFile or clientCertificatePath, or set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH";
}

/** A secret credential whose secret JSON.stringify, pino and util.inspect leave out. */
export function secretCredential(secret: string): TenantCredential {
  const credential = { kind: "secret" } as { kind: "secret"; secret: string };
  Object.defineProperty(credential, "secret", { value: secret, enumerable: false });
  return credential;
}

/** A certificate credential whose key passphrase, like a secret, stays out of logs and JSON. */
export function certificateCredential(path: string, password?: string): TenantCredential {
  const credential = { kind: "certificate", path } as {
    kind: "certificate";
    path: string;
    password?: string;
  };
  if (password !== undefined)
    Object.defineProperty(credential, "password", { value: password, enumerable: false });
  return credential;
}

/** ENOENT, EACCES...: the reason without the message, which could quote the file. */
function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? errorMessage(err);
}
