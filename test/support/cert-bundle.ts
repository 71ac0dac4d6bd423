import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CertPair, ensureClientCert } from "../../sim/certs.js";

/**
 * A PEM as AZURE_CLIENT_CERTIFICATE_PATH takes it, from the client certificate of `dir` (the one
 * the simulator registers when `dir` is the harness's certDir): its key in PKCS#8, encrypted with
 * openssl when `password` is given, or left out with `key: false`.
 */
export function certBundle(
  dir: string,
  name: string,
  options: { password?: string; key?: false } = {},
): string {
  const pair: CertPair = ensureClientCert(dir);
  const path = join(dir, `${name}.pem`);
  let key = "";
  if (options.key !== false) {
    key = options.password
      ? execFileSync(
          "openssl",
          ["pkcs8", "-topk8", "-in", pair.keyPath, "-passout", `pass:${options.password}`],
          { encoding: "utf8" },
        )
      : readFileSync(pair.keyPath, "utf8");
  }
  writeFileSync(path, readFileSync(pair.certPath, "utf8") + key, { mode: 0o600 });
  return path;
}
