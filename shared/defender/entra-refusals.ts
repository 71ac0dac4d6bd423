/** What Entra ID's refusals mean for a tenant of this deployment, and what fixes each. */
import { adminConsentUrl, type ConsentTarget } from "./admin-consent.js";

export interface RefusalAdvice {
  /** `AADSTS700016`, or msal's own code (`endpoints_resolution_error`) when Entra ID's never came. */
  code: string;
  meaning: string;
  fix: string;
  /** Where an administrator of the tenant grants consent, when consent is what is missing. */
  consentUrl?: string;
}

const WHERE_SECRET = "the tenant's clientSecretEnv or clientSecretFile, else AZURE_CLIENT_SECRET";
const CONSENT =
  "an administrator of the tenant grants admin consent at the consent URL, then run doctor again";

/** Codes from Microsoft's AADSTS reference (entra-docs reference-error-codes.md). */
const ADVICE: Record<string, (t: ConsentTarget) => Omit<RefusalAdvice, "code" | "consentUrl">> = {
  AADSTS700016: () => ({
    meaning:
      "the app is not in this tenant: no administrator consented to it there, or the tenant id is wrong",
    fix: CONSENT,
  }),
  AADSTS90094: () => ({ meaning: "the app's permissions need an administrator's consent", fix: CONSENT }),
  AADSTS65001: () => ({ meaning: "the app's permissions were not consented in this tenant", fix: CONSENT }),
  AADSTS500011: (t) => ({
    meaning: `the resource of tokenScope ${t.tokenScope} is not in this tenant: Defender for Endpoint is not provisioned there, or the app was never consented`,
    fix: `check that the tenant is onboarded to Defender for Endpoint and that tokenScope is its cloud's (docs/tenants.md); then ${CONSENT}`,
  }),
  AADSTS7000215: () => ({
    meaning: "invalid client secret",
    fix: `put the secret's Value (not its Secret ID) from the app registration's Certificates & secrets in ${WHERE_SECRET}`,
  }),
  AADSTS7000222: () => ({
    meaning: "the client secret has expired",
    fix: `create a new secret in the app registration's Certificates & secrets and put it in ${WHERE_SECRET}`,
  }),
  AADSTS90002: (t) => ({
    meaning: `tenant not found at ${t.authorityHost}: a wrong tenant id, or a tenant of another cloud`,
    fix: `check the tenant id and authorityHost (GCC High and DoD tenants sign in at https://login.microsoftonline.us)`,
  }),
  endpoints_resolution_error: (t) => ({
    meaning: `msal could not discover the authority ${t.authorityHost}/${t.tenantId}: the tenant is unknown there (AADSTS90002: a wrong id, or a tenant of another cloud) or the host did not answer`,
    fix: `check the tenant id and authorityHost (GCC High and DoD tenants sign in at https://login.microsoftonline.us)`,
  }),
};

/** Codes whose fix is an administrator's consent: the advice carries the tenant's consent URL. */
const NEEDS_CONSENT = new Set(["AADSTS700016", "AADSTS90094", "AADSTS65001", "AADSTS500011"]);

/** The advice for `code` (an AADSTS code or msal's error code) in the tenant of `target`. */
export function refusalAdvice(code: string, target: ConsentTarget): RefusalAdvice {
  const known = ADVICE[code];
  if (known) {
    const advice: RefusalAdvice = { code, ...known(target) };
    if (NEEDS_CONSENT.has(code)) advice.consentUrl = adminConsentUrl(target);
    return advice;
  }
  const digits = /^AADSTS(\d+)$/.exec(code)?.[1];
  if (digits)
    return {
      code,
      meaning: "Entra ID refused the credential",
      fix: `look the code up at https://login.microsoftonline.com/error?code=${digits}`,
    };
  return {
    code,
    meaning: "Entra ID did not answer",
    fix: `check that ${target.authorityHost} is reachable from here (proxy, firewall, NODE_EXTRA_CA_CERTS), then run doctor again`,
  };
}
