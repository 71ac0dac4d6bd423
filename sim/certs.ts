import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** PEM files of a self-signed certificate and its key. */
export interface CertPair {
  certPath: string;
  keyPath: string;
}

/**
 * Creates (once) a self-signed TLS certificate for 127.0.0.1 and localhost in `dir`, with the
 * openssl CLI. Clients trust it through NODE_EXTRA_CA_CERTS: TLS verification stays on.
 */
export function ensureServerCert(dir: string): CertPair {
  return ensurePair(dir, "server", [
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "extendedKeyUsage=serverAuth",
  ]);
}

/** A client certificate with its private key, for the certificate credential of an app registration. */
export function ensureClientCert(dir: string, name = "client"): CertPair {
  return ensurePair(dir, name, ["-subj", `/CN=mde-cancel-${name}`]);
}

function ensurePair(dir: string, name: string, extra: string[]): CertPair {
  mkdirSync(dir, { recursive: true });
  const pair = { certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`) };
  if (existsSync(pair.certPath) && existsSync(pair.keyPath)) return pair;
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650"]
      .concat(extra)
      .concat(["-keyout", pair.keyPath, "-out", pair.certPath]),
    { stdio: "ignore" },
  );
  return pair;
}
