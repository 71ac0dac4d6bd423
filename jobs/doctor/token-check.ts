import type { TenantSettings } from "../../shared/config/tenant-directory.js";
import { errorMessage, UnauthorizedError, UpstreamError } from "../../shared/core/errors.js";
import { adminConsentUrl, type ConsentTarget } from "../../shared/defender/admin-consent.js";
import { refusalAdvice } from "../../shared/defender/entra-refusals.js";
import { checkPermissions } from "../../shared/defender/permissions.js";
import { tokenClaims } from "../../shared/defender/token-claims.js";
import type { TokenProvider } from "../../shared/defender/token-provider.js";
import type { RolesCheck, TokenCheck } from "./doctor-report.js";

/**
 * A token for the tenant, or the code that refused it with its meaning and fix. The token itself
 * is returned for the next checks only: it never enters the report.
 */
export async function checkToken(
  tokens: TokenProvider,
  tenant: TenantSettings,
): Promise<{ check: TokenCheck; accessToken?: string }> {
  try {
    const accessToken = await tokens.get(tenant.tenantId);
    return { check: { status: "ok", summary: "ok" }, accessToken };
  } catch (err) {
    const code =
      err instanceof UnauthorizedError
        ? (tokens.health.refusal(tenant.tenantId)?.code ?? "refused")
        : ((err instanceof UpstreamError ? err.upstreamCode : undefined) ?? "unreachable");
    const advice = refusalAdvice(code, consentTarget(tenant));
    const meaning = code === "unreachable" ? errorMessage(err) : advice.meaning;
    return {
      check: {
        status: "failed",
        summary: code,
        code,
        meaning,
        fix: `${code}: ${meaning}; ${advice.fix}`,
        consentUrl: advice.consentUrl,
      },
    };
  }
}

/** The app roles in the token against the permissions cancel and the state checks accept. */
export function checkRoles(accessToken: string, tenant: TenantSettings): RolesCheck {
  const claims = tokenClaims(accessToken);
  if (!claims)
    return {
      status: "failed",
      summary: "unreadable token",
      fix: "the token is not a JWT, so its roles cannot be read; check that authorityHost is an Entra ID authority",
      roles: [],
      cancel: [],
      read: [],
      missing: [],
    };
  const { cancel, read, missing } = checkPermissions(claims.roles);
  const base = { roles: claims.roles, cancel, read, missing };
  if (missing.length === 0) {
    const cancelled = cancel.length === 1 ? cancel[0] : `${cancel.length} cancel permissions`;
    return { status: "ok", summary: `${read[0]} + ${cancelled}`, ...base };
  }
  const consentUrl = adminConsentUrl(consentTarget(tenant));
  const summary =
    read.length + cancel.length === 0
      ? "missing read and cancel"
      : read.length === 0
        ? "missing Machine.Read.All"
        : "missing a cancel permission";
  return {
    status: "failed",
    summary,
    fix: `the token lacks ${missing.join(" and ")}: the app registration must request it (API permissions, WindowsDefenderATP, application permissions), then an administrator of the tenant grants admin consent again at the consent URL`,
    consentUrl,
    ...base,
  };
}

export function consentTarget(tenant: TenantSettings): ConsentTarget {
  return {
    authorityHost: tenant.authorityHost,
    tenantId: tenant.tenantId,
    clientId: tenant.clientId,
    tokenScope: tenant.tokenScope,
  };
}
