/** Entra ID access tokens for the Defender API; the only user of msal-node in the product. */

import { setMaxListeners } from "node:events";
import { AuthError, ConfidentialClientApplication, type Configuration, ServerError } from "@azure/msal-node";
import pRetry, { AbortError } from "p-retry";
import type { WorkerCredentials } from "../config/credentials.js";
import { errorMessage, TokenUnavailableError, UnauthorizedError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { untilAborted } from "../core/until-aborted.js";
import { withTimeout } from "../core/with-timeout.js";
import { loadClientCertificate } from "./client-certificate.js";
import { CredentialHealth } from "./credential-health.js";

const RENEW_BEFORE_MS = 5 * 60_000;

export interface TokenProviderOptions {
  credentials: WorkerCredentials;
  authorityHost: string;
  scope: string;
  timeoutMs: number;
  /** Where a refusal is logged, once; default: not logged. */
  logger?: Logger;
  /** Default: a CredentialHealth of its own, retrying a refused credential once a minute. */
  health?: CredentialHealth;
  /**
   * What the refusal's log line tells an operator to check, e.g. a tenant's entry of
   * MDE_TENANTS_FILE; default: AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential's variable.
   */
  checkHint?: string;
}

/** The credential part of msal's `auth`: a secret, or the certificate read and checked once. */
type ClientCredential = Pick<Configuration["auth"], "clientSecret" | "clientCertificate">;

/**
 * Access tokens from Entra ID through msal-node: one ConfidentialClientApplication per tenant
 * and credential, reused so its cache serves tokens until five minutes before expiry. Concurrent
 * callers share one in-flight request, and a 401 from Defender refreshes the token once for all
 * the jobs that saw the same stale token. The credential is read and checked when the provider
 * is built, so a bad certificate stops a command at start. A refusal is logged once, kept in
 * `health` for readiness, and answered from there until it may be tried again.
 */
export class TokenProvider {
  private readonly apps = new Map<string, ConfidentialClientApplication>();
  private readonly inFlight = new Map<string, Promise<string>>();
  /** The last token per tenant: msal's cache lookup costs more CPU than the HTTP call it precedes. */
  private readonly current = new Map<string, { token: string; expiresAt: number }>();
  private readonly credential: ClientCredential;
  private readonly closing = new AbortController();
  readonly health: CredentialHealth;
  /** Tokens acquired from Entra ID (not served from msal's cache), for metrics. */
  acquired = 0;

  /** Throws a UsageError naming the variable when the certificate cannot be used. */
  constructor(private readonly options: TokenProviderOptions) {
    const credential = options.credentials.credential;
    this.credential =
      credential.kind === "secret"
        ? { clientSecret: credential.secret }
        : { clientCertificate: loadClientCertificate(credential.path, credential.password) };
    this.health = options.health ?? new CredentialHealth();
    // Every job waiting for a token listens for close(): many at once is normal, not a leak.
    setMaxListeners(0, this.closing.signal);
  }

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

  /**
   * Abandons every token request, now and later (they reject with TokenUnavailableError), so a
   * shutdown never waits for a slow Entra ID; the jobs that waited are put back.
   */
  close(): void {
    this.closing.abort(new TokenUnavailableError("token request abandoned: the worker is stopping"));
  }

  private request(tenantId: string, skipCache: boolean): Promise<string> {
    const refused = this.health.blocking(tenantId);
    if (refused) return Promise.reject(refused);
    const key = `${tenantId}|${skipCache}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.acquire(tenantId, skipCache).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return untilAborted(pending, this.closing.signal);
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
      { retries: 2, minTimeout: 200, maxTimeout: 1_000, randomize: true, signal: this.closing.signal },
    ).catch((err: unknown) => {
      if (err instanceof UnauthorizedError) this.noteRefusal(tenantId, err);
      throw err;
    });
    if (!result?.accessToken) throw new TokenUnavailableError("Entra ID returned no access token");
    if (!result.fromCache) this.acquired += 1;
    if (this.health.accepted(tenantId))
      this.options.logger?.info({ tenantId }, "Entra ID accepts the credential again");
    this.current.set(tenantId, {
      token: result.accessToken,
      expiresAt: result.expiresOn?.getTime() ?? Date.now() + RENEW_BEFORE_MS,
    });
    return result.accessToken;
  }

  /** Logged once per refusal, not once per job: the jobs' own lines carry the reason. */
  private noteRefusal(tenantId: string, err: UnauthorizedError): void {
    this.current.delete(tenantId);
    if (!this.health.refused(tenantId, err)) return;
    const code = this.health.refusal(tenantId)?.code;
    const setting =
      this.options.credentials.credential.kind === "secret"
        ? "AZURE_CLIENT_SECRET"
        : "AZURE_CLIENT_CERTIFICATE_PATH (its certificate uploaded to the app registration)";
    const check = this.options.checkHint ?? `AZURE_TENANT_ID, AZURE_CLIENT_ID and ${setting}`;
    this.options.logger?.error(
      { tenantId, code, reason: err.message },
      `credential refused by Entra ID (${code}): check ${check}, and that an administrator consented to the app; jobs fail unauthorized meanwhile, and the credential is tried again at most every ${Math.round(this.health.retryMs / 1000)} s`,
    );
  }

  private app(tenantId: string): ConfidentialClientApplication {
    let app = this.apps.get(tenantId);
    if (!app) {
      app = new ConfidentialClientApplication(
        msalConfiguration(
          this.options.authorityHost,
          this.options.credentials.clientId,
          tenantId,
          this.credential,
        ),
      );
      this.apps.set(tenantId, app);
    }
    return app;
  }
}

/**
 * msal's configuration for one tenant's own authority (never /common). The authority's metadata
 * is given rather than discovered: discovery would cost a request per tenant, and msal turns a
 * refused discovery (an unknown tenant, one in another cloud) into `endpoints_resolution_error`,
 * hiding Entra's AADSTS code; given, the token request goes out at once and its refusal names it.
 * Entra's endpoints follow one pattern in every cloud, so the authority host is enough.
 */
function msalConfiguration(
  authorityHost: string,
  clientId: string,
  tenantId: string,
  credential: ClientCredential,
): Configuration {
  const host = new URL(authorityHost);
  const authority = `${host.origin}/${tenantId}`;
  return {
    auth: {
      clientId,
      authority,
      authorityMetadata: JSON.stringify({
        issuer: `${authority}/v2.0`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
      }),
      cloudDiscoveryMetadata: JSON.stringify({
        tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
        "api-version": "1.1",
        metadata: [{ preferred_network: host.host, preferred_cache: host.host, aliases: [host.host] }],
      }),
      ...credential,
    },
  };
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
    return new TokenUnavailableError(`Entra ID could not be reached (${err.errorCode})`, {
      code: err.errorCode || undefined,
    });
  return new TokenUnavailableError(`token request failed: ${errorMessage(err)}`);
}

function aadstsCode(err: ServerError): string {
  const code = /AADSTS\d+/.exec(err.message)?.[0];
  return [err.errorCode, code].filter(Boolean).join(" ") || "refused";
}
