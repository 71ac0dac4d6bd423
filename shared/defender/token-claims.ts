/** What an Entra ID access token says about itself, read from its payload. */

export interface TokenClaims {
  /** The tenant that issued it. */
  tid?: string;
  /** The app it was issued to. */
  appid?: string;
  /** The application permissions consented in that tenant. */
  roles: string[];
}

/**
 * The payload of a JWT access token, decoded but not verified: Defender verifies it, and this is
 * only read to tell a person what the token allows. Undefined when the token is not a JWT. The
 * token itself never leaves this function.
 */
export function tokenClaims(token: string): TokenClaims | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === "string" ? value : undefined);
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r) => typeof r === "string") : [];
    return { tid: text(claims.tid), appid: text(claims.appid), roles };
  } catch {
    return undefined;
  }
}
