import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { ensureServerCert } from "../../sim/certs.js";
import { certDir } from "./harness.js";

/** One request as the receiver saw it, verified as any Standard Webhooks receiver would. */
export interface Received {
  at: number;
  host: string | undefined;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The payload `Webhook.verify` returned, or undefined when verification failed. */
  verified: unknown;
  verifyError?: string;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/** A random `whsec_` secret, as a deployment would generate once. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
}

/**
 * An HTTPS webhook receiver on a loopback address, with the test certificate (127.0.0.1 and
 * localhost; clients trust it through NODE_EXTRA_CA_CERTS). It answers each request with the next
 * of `answers` (the last one repeats) and verifies every signature with `standardwebhooks`.
 */
export async function startReceiver(
  secret: string,
  answers: { status: number; headers?: Record<string, string> }[] = [{ status: 200 }],
  host = "127.0.0.1",
  /** Default: any free port. A receiver started again on its old port is one that was down. */
  port = 0,
): Promise<Receiver> {
  const tls = ensureServerCert(certDir);
  const webhook = new Webhook(secret);
  const received: Received[] = [];
  const server: Server = createServer(
    { key: readFileSync(tls.keyPath), cert: readFileSync(tls.certPath) },
    (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]),
        );
        const entry: Received = {
          at: Date.now(),
          host: req.headers.host,
          path: req.url ?? "",
          headers,
          body,
          verified: undefined,
        };
        try {
          entry.verified = webhook.verify(body, headers);
        } catch (err) {
          entry.verifyError = String(err);
        }
        received.push(entry);
        const answer = answers[Math.min(received.length - 1, answers.length - 1)] ?? { status: 200 };
        res.writeHead(answer.status, answer.headers).end();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `https://${host}:${bound}/hooks/mde?sig=capability-token`,
    port: bound,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
