import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";
import type { CredentialHealth } from "../shared/defender/credential-health.js";
import type { Readiness, RefusedTenant } from "./http-server.js";

/** How many refused tenants a 503's reason names before "and N more" (the body lists them all). */
const NAMED = 5;

/**
 * Readiness as the credentials decide it. Without a tenants file, not ready while Entra ID
 * refuses the one credential: every job would fail `unauthorized`. With one, not ready only when
 * every tenant is refused; while any tenant can work the worker is ready, and the answer names
 * the refused ones. Undefined: nothing is refused, so Redis decides.
 */
export function credentialReadiness(
  directory: TenantDirectory<TenantInfo>,
  health: CredentialHealth,
): Readiness | undefined {
  const refused: RefusedTenant[] = directory.list().flatMap((t) => {
    const refusal = health.refusal(t.tenantId);
    return refusal ? [{ tenant: t.name, tenantId: t.tenantId, code: refusal.code }] : [];
  });
  if (refused.length === 0) return undefined;
  const every = Math.round(health.retryMs / 1000);
  if (!directory.file)
    return {
      ok: false,
      reason: `Entra ID refused the credential (${refused[0]?.code}): jobs fail unauthorized until it is accepted; it is tried again every ${every} s (the worker's log says what to check)`,
    };
  if (refused.length < directory.size) return { ok: true, refused };
  const named = refused.slice(0, NAMED).map((r) => `${r.tenant}: ${r.code}`);
  if (refused.length > NAMED) named.push(`and ${refused.length - NAMED} more`);
  return {
    ok: false,
    refused,
    reason: `Entra ID refused the credential of every tenant (${named.join(", ")}): jobs fail unauthorized until one is accepted; each is tried again every ${every} s (the worker's log says what to check)`,
  };
}
