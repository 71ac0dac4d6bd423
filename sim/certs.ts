import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";

/** PEM files of a self-signed certificate and its key. */
export interface CertPair {
  certPath: string;
  keyPath: string;
}

const HOSTNAME_RE =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** True for a DNS name or IP address that may go into a certificate's subjectAltName. */
export const isCertHost = (host: string): boolean => isIP(host) !== 0 || HOSTNAME_RE.test(host);

/**
 * Creates (once) a self-signed TLS certificate for 127.0.0.1 and localhost in `dir`, with the
 * openssl CLI. Clients trust it through NODE_EXTRA_CA_CERTS: TLS verification stays on.
 * `extraHosts` adds names (e.g. a Docker service name); an existing certificate lacking one is replaced.
 */
export function ensureServerCert(dir: string, extraHosts: readonly string[] = []): CertPair {
  const bad = extraHosts.find((h) => !isCertHost(h));
  if (bad !== undefined) throw new TypeError(`${JSON.stringify(bad)} is not a DNS name or IP address`);
  const san = extraHosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`));
  const covers = (cert: X509Certificate) =>
    extraHosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
  return ensurePair(
    dir,
    "server",
    [
      "-subj",
      "/CN=localhost",
      "-addext",
      ["subjectAltName=IP:127.0.0.1,DNS:localhost", ...san].join(","),
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ],
    covers,
  );
}

/** A client certificate with its private key, for the certificate credential of an app registration. */
export function ensureClientCert(dir: string, name = "client"): CertPair {
  return ensurePair(dir, name, ["-subj", `/CN=mde-cancel-${name}`]);
}

function ensurePair(
  dir: string,
  name: string,
  extra: string[],
  reusable: (cert: X509Certificate) => boolean = () => true,
): CertPair {
  mkdirSync(dir, { recursive: true });
  const pair = { certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`) };
  if (
    existsSync(pair.certPath) &&
    existsSync(pair.keyPath) &&
    reusable(new X509Certificate(readFileSync(pair.certPath)))
  )
    return pair;
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650"]
      .concat(extra)
      .concat(["-keyout", pair.keyPath, "-out", pair.certPath]),
    { stdio: "ignore" },
  );
  return pair;
}
