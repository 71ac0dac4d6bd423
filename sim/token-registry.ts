import { createHmac, randomBytes } from "node:crypto";

/** Who a token was issued to, as its claims say. */
export interface TokenClaims {
  tenant: string;
  clientId: string;
  /** App roles (application permissions), e.g. Machine.Read.All. */
  roles: readonly string[];
  /** The resource the token is for: the scope without `/.default`. */
  audience: string;
}

export interface TokenGrant extends TokenClaims {
  expiresAt: number;
}

/**
 * The simulator only accepts tokens it issued itself, so a client cannot pass by sending any
 * string. Tokens are JWTs with the claims an Entra app token for Defender carries (`tid`, `roles`,
 * `appid`, `aud`, `exp`), HMAC-signed with a key of this run: clients read the payload, as
 * `doctor` does, and nobody validates the signature (msal never parses access tokens).
 */
export class TokenRegistry {
  private readonly grants = new Map<string, TokenGrant & { revoked: boolean }>();
  private readonly key = randomBytes(32);

  constructor(private readonly now: () => number = Date.now) {}

  issue(claims: TokenClaims, ttlSec: number): string {
    const iat = Math.floor(this.now() / 1000);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const payload = {
      aud: claims.audience,
      iss: `https://sts.windows.net/${claims.tenant}/`,
      iat,
      nbf: iat,
      exp: iat + ttlSec,
      appid: claims.clientId,
      tid: claims.tenant,
      roles: [...claims.roles],
      idtyp: "app",
      jti: randomBytes(12).toString("base64url"),
    };
    const signed = `${b64({ typ: "JWT", alg: "HS256", kid: "simulator" })}.${b64(payload)}`;
    const token = `${signed}.${createHmac("sha256", this.key).update(signed).digest("base64url")}`;
    this.grants.set(token, { ...claims, expiresAt: (iat + ttlSec) * 1000, revoked: false });
    return token;
  }

  verify(token: string): TokenGrant | undefined {
    const grant = this.grants.get(token);
    if (!grant || grant.revoked || grant.expiresAt <= this.now()) return undefined;
    const { revoked: _revoked, ...valid } = grant;
    return valid;
  }

  revokeAll(): void {
    for (const grant of this.grants.values()) grant.revoked = true;
  }

  /** Every token issued so far, e.g. to check that none leaks into logs. */
  all(): string[] {
    return [...this.grants.keys()];
  }
}
