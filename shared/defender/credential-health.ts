import type { UnauthorizedError } from "../core/errors.js";

/** A refused credential is tried again at most this often: consent granted meanwhile then heals it. */
export const REFUSED_RETRY_MS = 60_000;

export interface Refusal {
  /** The AADSTS code (e.g. `AADSTS7000215`), or Entra's error code when the answer had none. */
  code: string;
  error: UnauthorizedError;
  /** When Entra ID last refused it (epoch ms). */
  at: number;
}

export interface CredentialHealthOptions {
  /** Default REFUSED_RETRY_MS. */
  retryMs?: number;
  now?: () => number;
}

/**
 * What Entra ID last said of each tenant's credential. The token provider records every refusal
 * and acceptance; readiness reads it. It decides only: logging and retrying are its callers'.
 */
export class CredentialHealth {
  private readonly refusals = new Map<string, Refusal>();
  readonly retryMs: number;
  private readonly now: () => number;

  constructor(options: CredentialHealthOptions = {}) {
    this.retryMs = options.retryMs ?? REFUSED_RETRY_MS;
    this.now = options.now ?? Date.now;
  }

  /** Records a refusal; true when it is news (the first, or another code) and worth one log line. */
  refused(tenantId: string, error: UnauthorizedError): boolean {
    const code = /AADSTS\d+/.exec(error.message)?.[0] ?? error.upstreamCode ?? "refused";
    const previous = this.refusals.get(tenantId);
    this.refusals.set(tenantId, { code, error, at: this.now() });
    return previous?.code !== code;
  }

  /** Records a token; true when the credential had been refused until now. */
  accepted(tenantId: string): boolean {
    return this.refusals.delete(tenantId);
  }

  /** Forgets a refusal whose credential was replaced (a reload): the new one is tried at once. */
  forget(tenantId: string): void {
    this.refusals.delete(tenantId);
  }

  /** The current refusal of `tenantId`'s credential, if any. */
  refusal(tenantId: string): Refusal | undefined {
    return this.refusals.get(tenantId);
  }

  /** The refusal to answer with instead of asking Entra ID again, while it is younger than `retryMs`. */
  blocking(tenantId: string): UnauthorizedError | undefined {
    const refusal = this.refusals.get(tenantId);
    return refusal && this.now() - refusal.at < this.retryMs ? refusal.error : undefined;
  }

  /** How long until `tenantId`'s refused credential may be tried again (0: now, or not refused). */
  retryInMs(tenantId: string): number {
    const refusal = this.refusals.get(tenantId);
    return refusal ? Math.max(0, refusal.at + this.retryMs - this.now()) : 0;
  }
}
