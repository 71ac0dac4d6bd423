/** Entra ID access tokens for the Defender API; the only user of msal-node in the product. */

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { AuthError, ConfidentialClientApplication, type Configuration, ServerError } from "@azure/msal-node";
import pRetry, { AbortError } from "p-retry";
import type { WorkerCredentials } from "../config/credentials.js";
import { errorMessage, TokenUnavailableError, UnauthorizedError, UsageError } from "../core/errors.js";
import { withTimeout } from "../core/with-timeout.js";

/** Well-known Entra hosts msal can discover; any other https host is trusted through knownAuthorities. */
const KNOWN_CLOUD_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
  "login.microsoft.com",
]);

const RENEW_BEFORE_MS = 5 * 60_000;

export interface TokenProviderOptions {
  credentials: WorkerCredentials;
  authorityHost: string;
  scope: string;
  timeoutMs: number;
}

/**
 * Access tokens from Entra ID through msal-node: one ConfidentialClientApplication per tenant
 * and credential, reused so its cache serves tokens until five minutes before expiry. Concurrent
 * callers share one in-flight request, and a 401 from Defender refreshes the token once for all
 * the jobs that saw the same stale token.
 */
export class TokenProvider {
  private readonly apps = new Map<string, ConfidentialClientApplication>();
  private readonly inFlight = new Map<string, Promise<string>>();
  /** The last token per tenant: msal's cache lookup costs more CPU than the HTTP call it precedes. */
  private readonly current = new Map<string, { token: string; expiresAt: number }>();
  /** Tokens acquired from Entra ID (not served from msal's cache), for metrics. */
  acquired = 0;

  constructor(private readonly options: TokenProviderOptions) {}

  /** A valid token for `tenantId`, from msal's cache when it has one. */
  get(tenantId: string): Promise<string> {
    const held = this.current.get(tenantId);
    // Renewed when msal would renew it: five minutes before it expires.
    if (held && held.expiresAt - Date.now() > RENEW_BEFORE_MS) return Promise.resolve(held.token);
    return this.request(tenantId, false);
  }

  /** A fresh token, unless another caller already replaced `staleToken` (then that one is returned). */
  refresh(tenantId: string, staleToken: string): Promise<string> {
    const now = this.current.get(tenantId)?.token;
    if (now !== undefined && now !== staleToken) return Promise.resolve(now);
    return this.request(tenantId, true);
  }

  private request(tenantId: string, skipCache: boolean): Promise<string> {
    const key = `${tenantId}|${skipCache}`;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const promise = this.acquire(tenantId, skipCache).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  private async acquire(tenantId: string, skipCache: boolean): Promise<string> {
    const app = this.app(tenantId);
    const result = await pRetry(
      async () => {
        try {
          return await withTimeout(
            app.acquireTokenByClientCredential({ scopes: [this.options.scope], skipCache }),
            this.options.timeoutMs,
            () => new TokenUnavailableError(`Entra ID did not answer within ${this.options.timeoutMs} ms`),
          );
        } catch (err) {
          const mapped = classifyAuthError(err);
          throw mapped instanceof UnauthorizedError ? new AbortError(mapped) : mapped;
        }
      },
      // A blip (reset connection, one 5xx) is absorbed here; a longer outage goes back to the job's backoff.
      { retries: 2, minTimeout: 200, maxTimeout: 1_000, randomize: true },
    );
    if (!result?.accessToken) throw new TokenUnavailableError("Entra ID returned no access token");
    if (!result.fromCache) this.acquired += 1;
    this.current.set(tenantId, {
      token: result.accessToken,
      expiresAt: result.expiresOn?.getTime() ?? Date.now() + RENEW_BEFORE_MS,
    });
    return result.accessToken;
  }

  private app(tenantId: string): ConfidentialClientApplication {
    let app = this.apps.get(tenantId);
    if (!app) {
      app = new ConfidentialClientApplication(msalConfiguration(this.options, tenantId));
      this.apps.set(tenantId, app);
    }
    return app;
  }
}

export function msalConfiguration(options: TokenProviderOptions, tenantId: string): Configuration {
  const host = new URL(options.authorityHost);
  const auth: Configuration["auth"] = {
    clientId: options.credentials.clientId,
    authority: `${host.origin}/${tenantId}`,
    // msal would otherwise ask login.microsoftonline.com whether this host is an authority.
    knownAuthorities: KNOWN_CLOUD_HOSTS.has(host.hostname) ? [] : [host.host],
  };
  const credential = options.credentials.credential;
  if (credential.kind === "secret") {
    auth.clientSecret = credential.secret;
  } else {
    auth.clientCertificate = readCertificate(credential.path);
  }
  return { auth };
}

/** Reads a PEM holding the certificate and its private key; derives the SHA-256 thumbprint. */
export function readCertificate(path: string): { thumbprintSha256: string; privateKey: string; x5c: string } {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`AZURE_CLIENT_CERTIFICATE_PATH=${path} cannot be read; point it at a PEM file.`);
  }
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const privateKey =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
      pem,
    )?.[0];
  if (!certificate || !privateKey)
    throw new UsageError(
      `AZURE_CLIENT_CERTIFICATE_PATH=${path} must hold both a certificate and its private key in PEM.`,
    );
  const thumbprintSha256 = new X509Certificate(certificate).fingerprint256.replace(/:/g, "");
  return { thumbprintSha256, privateKey, x5c: certificate };
}

/**
 * An AADSTS refusal (4xx from Entra ID: bad secret, unknown app or tenant) is final; anything
 * else (unreachable, 5xx, msal's own throttling after a 5xx) is transient.
 */
export function classifyAuthError(err: unknown): UnauthorizedError | TokenUnavailableError {
  if (err instanceof TokenUnavailableError || err instanceof UnauthorizedError) return err;
  if (err instanceof ServerError) {
    const status = err.status;
    if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return new UnauthorizedError(`Entra ID refused the credential: ${aadstsCode(err)}`, {
        httpStatus: status,
        code: err.errorCode || undefined,
      });
    }
    return new TokenUnavailableError(`Entra ID is unavailable (${status ?? "throttled"})`, {
      httpStatus: status,
    });
  }
  if (err instanceof AuthError)
    return new TokenUnavailableError(`Entra ID could not be reached (${err.errorCode})`);
  return new TokenUnavailableError(`token request failed: ${errorMessage(err)}`);
}

function aadstsCode(err: ServerError): string {
  const code = /AADSTS\d+/.exec(err.message)?.[0];
  return [err.errorCode, code].filter(Boolean).join(" ") || "refused";
}
