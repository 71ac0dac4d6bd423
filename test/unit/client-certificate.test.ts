import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/config.js";
import { requireWorkerCredentials } from "../../shared/config/credentials.js";
import { UsageError } from "../../shared/core/errors.js";
import { createLogger } from "../../shared/core/logger.js";
import { loadClientCertificate } from "../../shared/defender/client-certificate.js";
import { createTokenProvider } from "../../shared/defender/defender-session.js";
import { ensureClientCert } from "../../sim/certs.js";
import { certBundle } from "../support/cert-bundle.js";

const dir = mkdtempSync(join(tmpdir(), "mde-cert-"));
const PASSWORD = "Pa55-phrase-never-echoed";
const pair = ensureClientCert(dir);
const thumbprint = new X509Certificate(readFileSync(pair.certPath)).fingerprint256.replace(/:/g, "");
afterAll(() => execFileSync("rm", ["-rf", dir]));

function refusal(path: string, password?: string): string {
  try {
    loadClientCertificate(path, password);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error("expected the certificate to be refused");
}

describe("loadClientCertificate", () => {
  it("reads a certificate with its plain key: thumbprint and key for msal", () => {
    const loaded = loadClientCertificate(certBundle(dir, "plain"));
    expect(loaded.thumbprintSha256).toBe(thumbprint);
    expect(loaded.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(loaded.x5c).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("decrypts an encrypted PKCS#8 key with the password into the plain PEM msal needs", () => {
    const loaded = loadClientCertificate(certBundle(dir, "encrypted", { password: PASSWORD }), PASSWORD);
    expect(loaded.thumbprintSha256).toBe(thumbprint);
    expect(loaded.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(loaded.privateKey).toBe(loadClientCertificate(certBundle(dir, "plain")).privateKey);
  });

  it("decrypts a traditional encrypted RSA key (Proc-Type: 4,ENCRYPTED) too", () => {
    const key = execFileSync(
      "openssl",
      ["rsa", "-in", pair.keyPath, "-aes256", "-traditional", "-passout", `pass:${PASSWORD}`],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    expect(key).toMatch(/Proc-Type: 4,ENCRYPTED/);
    const path = join(dir, "traditional.pem");
    writeFileSync(path, readFileSync(pair.certPath, "utf8") + key);
    expect(loadClientCertificate(path, PASSWORD).thumbprintSha256).toBe(thumbprint);
    expect(refusal(path)).toMatch(/encrypted private key; set AZURE_CLIENT_CERTIFICATE_PASSWORD/);
  });

  it("names AZURE_CLIENT_CERTIFICATE_PATH when the file cannot be read", () => {
    expect(refusal(join(dir, "missing.pem"))).toMatch(
      /^AZURE_CLIENT_CERTIFICATE_PATH=.*missing\.pem cannot be read \(ENOENT\); point it at a PEM file/,
    );
    const locked = certBundle(dir, "locked");
    chmodSync(locked, 0o000);
    // root reads any file: the refusal is only observable for other users.
    if (process.getuid?.() !== 0) expect(refusal(locked)).toMatch(/cannot be read \(EACCES\)/);
    expect(refusal(dir)).toMatch(/cannot be read \(EISDIR\)/);
  });

  it("names AZURE_CLIENT_CERTIFICATE_PATH when the PEM holds the certificate without its key", () => {
    expect(refusal(certBundle(dir, "no-key", { key: false }))).toMatch(
      /^AZURE_CLIENT_CERTIFICATE_PATH=.*no-key\.pem holds no private key; append the certificate's private key/,
    );
    const keyOnly = join(dir, "key-only.pem");
    writeFileSync(keyOnly, readFileSync(pair.keyPath));
    expect(refusal(keyOnly)).toMatch(/holds no PEM certificate/);
  });

  it("asks for AZURE_CLIENT_CERTIFICATE_PASSWORD when the key is encrypted and none is set", () => {
    expect(refusal(certBundle(dir, "encrypted", { password: PASSWORD }))).toMatch(
      /^AZURE_CLIENT_CERTIFICATE_PATH=.*encrypted\.pem holds an encrypted private key; set AZURE_CLIENT_CERTIFICATE_PASSWORD to its passphrase\.$/,
    );
  });

  it("names AZURE_CLIENT_CERTIFICATE_PASSWORD, without echoing it, when it does not decrypt the key", () => {
    const message = refusal(certBundle(dir, "encrypted", { password: PASSWORD }), "not-the-Passphrase-42");
    expect(message).toMatch(
      /^AZURE_CLIENT_CERTIFICATE_PASSWORD does not decrypt the private key in AZURE_CLIENT_CERTIFICATE_PATH=/,
    );
    expect(message).not.toContain("not-the-Passphrase-42");
    expect(message).not.toContain(PASSWORD);
  });

  it("refuses a key that does not belong to the certificate", () => {
    const other = ensureClientCert(dir, "other");
    const path = join(dir, "mismatch.pem");
    writeFileSync(path, readFileSync(pair.certPath, "utf8") + readFileSync(other.keyPath, "utf8"));
    expect(refusal(path)).toMatch(/holds a private key that does not belong to its certificate/);
  });
});

describe("the token provider checks its certificate when it is built, not on the first job", () => {
  const base = {
    AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555",
    AZURE_CLIENT_ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  };
  const build = (env: Record<string, string>) => {
    const config = parseConfig({ ...base, ...env });
    return () => createTokenProvider(config, requireWorkerCredentials(config), createLogger("silent"));
  };

  it("throws the UsageError at construction", () => {
    expect(build({ AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "missing.pem") })).toThrow(UsageError);
    expect(
      build({ AZURE_CLIENT_CERTIFICATE_PATH: certBundle(dir, "encrypted", { password: PASSWORD }) }),
    ).toThrow(/AZURE_CLIENT_CERTIFICATE_PASSWORD/);
    expect(
      build({
        AZURE_CLIENT_CERTIFICATE_PATH: certBundle(dir, "encrypted", { password: PASSWORD }),
        AZURE_CLIENT_CERTIFICATE_PASSWORD: PASSWORD,
      }),
    ).not.toThrow();
  });

  it("keeps AZURE_CLIENT_CERTIFICATE_PASSWORD out of the credentials when they are logged or serialized", () => {
    const config = parseConfig({
      ...base,
      AZURE_CLIENT_CERTIFICATE_PATH: certBundle(dir, "encrypted", { password: PASSWORD }),
      AZURE_CLIENT_CERTIFICATE_PASSWORD: PASSWORD,
    });
    const credentials = requireWorkerCredentials(config);
    expect(credentials.credential).toMatchObject({ kind: "certificate", password: PASSWORD });
    expect(JSON.stringify(credentials)).not.toContain(PASSWORD);
  });
});
