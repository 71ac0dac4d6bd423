/** What a worker needs beyond the common settings, checked once at its start. */
import { UsageError } from "../core/errors.js";
import type { Config } from "./config.js";
import { certificateCredential } from "./tenant-credential.js";
import type { TenantCredential } from "./tenant-directory.js";

/** A tenant, an app and exactly one credential. */
export interface WorkerCredentials {
  tenantId: string;
  clientId: string;
  /** A certificate's key passphrase is not enumerable: logging or serializing this never shows it. */
  credential: TenantCredential;
}

/** Throws a UsageError naming what is missing, or both credentials when both are set. */
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
      : certificateCredential(config.clientCertificatePath as string, config.clientCertificatePassword),
  };
}
