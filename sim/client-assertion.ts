import { constants, createVerify, X509Certificate } from "node:crypto";

export interface AssertionConfig {
  clientId: string;
  /** The certificate registered on the app registration. */
  clientCertPem?: string | Buffer;
}

// msal rounds nbf to the nearest second, so it can be up to a second ahead of our clock.
const CLOCK_SKEW_SEC = 5;

/**
 * Why a private_key_jwt client assertion is refused, or null when it is good.
 * msal-node signs PS256 with x5t#S256 (SHA-256 thumbprint); older configs send RS256 with x5t (SHA-1).
 */
export function assertionProblem(
  form: Record<string, string>,
  config: AssertionConfig,
  tokenEndpoint: string,
): string | null {
  if (form.client_assertion_type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
    return "bad client_assertion_type";
  }
  if (!config.clientCertPem) return "no certificate is registered for the app";
  const [h = "", p = "", s = ""] = (form.client_assertion ?? "").split(".");
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString());
    payload = JSON.parse(Buffer.from(p, "base64url").toString());
  } catch {
    return "the assertion is not a JWT";
  }
  const cert = new X509Certificate(config.clientCertPem);
  const thumb = (fp: string) => Buffer.from(fp.replace(/:/g, ""), "hex").toString("base64url");
  const keyMatches =
    header["x5t#S256"] === thumb(cert.fingerprint256) || header.x5t === thumb(cert.fingerprint);
  if (!keyMatches) return "the thumbprint does not match the registered certificate";
  if (payload.iss !== config.clientId || payload.sub !== config.clientId)
    return "iss and sub must be the client id";
  if (payload.aud !== tokenEndpoint) return `aud must be ${tokenEndpoint}`;
  const nowSec = Date.now() / 1000;
  if (typeof payload.exp !== "number" || payload.exp < nowSec - CLOCK_SKEW_SEC)
    return "the assertion has expired";
  if (typeof payload.nbf === "number" && payload.nbf > nowSec + CLOCK_SKEW_SEC)
    return "the assertion is not valid yet";
  const verifier = createVerify("RSA-SHA256").update(`${h}.${p}`);
  const key = cert.publicKey;
  const signature = Buffer.from(s, "base64url");
  const valid =
    header.alg === "PS256"
      ? verifier.verify(
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
          signature,
        )
      : header.alg === "RS256" && verifier.verify(key, signature);
  return valid ? null : `the signature does not verify (alg ${String(header.alg)})`;
}
