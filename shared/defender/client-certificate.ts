import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { errorMessage, UsageError } from "../core/errors.js";

/** What msal-node's `clientCertificate` takes: the key as plain PEM, since msal cannot decrypt one. */
export interface ClientCertificate {
  thumbprintSha256: string;
  privateKey: string;
  x5c: string;
}

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
// PKCS#8 (plain or encrypted) and the traditional RSA and EC forms, whose encryption is a Proc-Type header.
const KEY_PEM = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/**
 * Reads the PEM of AZURE_CLIENT_CERTIFICATE_PATH once, at start, and checks everything msal would
 * otherwise find out on the first job: a readable file, a certificate, its key, the key decrypted
 * with AZURE_CLIENT_CERTIFICATE_PASSWORD (as @azure/identity does), an RSA key that belongs to the
 * certificate. Every refusal is a UsageError naming the variable; the password is never echoed.
 */
export function loadClientCertificate(path: string, password?: string): ClientCertificate {
  const where = `AZURE_CLIENT_CERTIFICATE_PATH=${path}`;
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? errorMessage(err);
    throw new UsageError(`${where} cannot be read (${code}); point it at a PEM file this user can read.`);
  }
  const certificatePem = CERTIFICATE_PEM.exec(pem)?.[0];
  const keyPem = KEY_PEM.exec(pem)?.[0];
  if (!certificatePem)
    throw new UsageError(`${where} holds no PEM certificate; put the certificate and its private key in it.`);
  if (!keyPem)
    throw new UsageError(
      `${where} holds no private key; append the certificate's private key to the file (PEM), e.g. cat cert.pem key.pem > bundle.pem.`,
    );
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch (err) {
    throw new UsageError(`${where} holds a certificate that cannot be parsed (${errorMessage(err)}).`);
  }
  const key = privateKey(keyPem, password, where);
  if (key.asymmetricKeyType !== "rsa")
    throw new UsageError(
      `${where} holds a private key of type ${key.asymmetricKeyType}; Entra ID certificate credentials need RSA.`,
    );
  if (!certificate.checkPrivateKey(key))
    throw new UsageError(
      `${where} holds a private key that does not belong to its certificate; put the certificate's own key in the file.`,
    );
  return {
    thumbprintSha256: certificate.fingerprint256.replace(/:/g, ""),
    privateKey: key.export({ type: "pkcs8", format: "pem" }) as string,
    x5c: certificatePem,
  };
}

function privateKey(keyPem: string, password: string | undefined, where: string): KeyObject {
  const encrypted = keyPem.startsWith("-----BEGIN ENCRYPTED") || /^Proc-Type: 4,ENCRYPTED/m.test(keyPem);
  if (encrypted && !password)
    throw new UsageError(
      `${where} holds an encrypted private key; set AZURE_CLIENT_CERTIFICATE_PASSWORD to its passphrase.`,
    );
  try {
    // An empty passphrase for a plain key: node would otherwise ask a TTY for one.
    return createPrivateKey({ key: keyPem, format: "pem", passphrase: encrypted ? password : "" });
  } catch (err) {
    if (encrypted)
      throw new UsageError(
        `AZURE_CLIENT_CERTIFICATE_PASSWORD does not decrypt the private key in ${where}; set it to the key's passphrase.`,
      );
    throw new UsageError(`${where} holds a private key that cannot be read (${errorMessage(err)}).`);
  }
}
