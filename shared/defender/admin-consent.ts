/** Where a customer's administrator consents to the app: Entra ID's v2 admin-consent endpoint. */
export interface ConsentTarget {
  /** The tenant's own cloud: `https://login.microsoftonline.us` for GCC High and DoD. */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  /** `<resource>/.default`: consent to every application permission the app requests of it. */
  tokenScope: string;
}

/**
 * `https://<authority>/<tenant>/v2.0/adminconsent?client_id=<app>&scope=<resource>/.default`.
 * Microsoft marks `scope` required, and only `/.default` asks for application permissions; it
 * also marks `redirect_uri` required, which only the app's owner knows (docs/tenants.md).
 */
export function adminConsentUrl(target: ConsentTarget): string {
  const url = new URL(`/${target.tenantId}/v2.0/adminconsent`, target.authorityHost);
  url.searchParams.set("client_id", target.clientId);
  url.searchParams.set("scope", target.tokenScope);
  return url.toString();
}
