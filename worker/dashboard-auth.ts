import { createHash, timingSafeEqual } from "node:crypto";
import type { onRequestHookHandler } from "fastify";
import type { Config } from "../shared/config/config.js";
import { UsageError } from "../shared/core/errors.js";
import { isLoopbackHost } from "../shared/core/loopback.js";

export interface DashboardSettings {
  host: string;
  port: number;
  credentials?: { user: string; password: string };
}

/**
 * The dashboard's settings, or undefined when DASHBOARD_PORT is unset. Job data (action ids,
 * requestor, comments) must not be readable from the network without a password, so a
 * non-loopback host without credentials refuses to start.
 */
export function dashboardSettings(config: Config): DashboardSettings | undefined {
  if (config.dashboardPort === undefined) return undefined;
  const { dashboardUser: user, dashboardPassword: password, dashboardHost: host } = config;
  if ((user === undefined) !== (password === undefined))
    throw new UsageError(
      "Set both DASHBOARD_USER and DASHBOARD_PASSWORD for the dashboard's basic auth, or neither.",
    );
  if (!user || !password) {
    if (!isLoopbackHost(host))
      throw new UsageError(
        `DASHBOARD_HOST=${host} exposes the queue dashboard beyond this host: set DASHBOARD_USER and DASHBOARD_PASSWORD, or bind DASHBOARD_HOST to 127.0.0.1.`,
      );
    return { host, port: config.dashboardPort };
  }
  return { host, port: config.dashboardPort, credentials: { user, password } };
}

/** Whether an Authorization header carries exactly these credentials; compared in constant time. */
export function checkBasicAuth(
  header: string | undefined,
  expected: { user: string; password: string },
): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  const decoded = match?.[1] ? Buffer.from(match[1], "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  const user = colon >= 0 ? decoded.slice(0, colon) : "";
  const password = colon >= 0 ? decoded.slice(colon + 1) : "";
  // Digests have one length whatever the input, so neither the length nor the first difference leaks.
  const userOk = sameDigest(user, expected.user);
  const passwordOk = sameDigest(password, expected.password);
  return colon >= 0 && userOk && passwordOk;
}

function sameDigest(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** A Fastify onRequest hook answering 401 (with a Basic challenge) unless the credentials match. */
export function basicAuth(expected: { user: string; password: string }): onRequestHookHandler {
  return async (request, reply) => {
    if (checkBasicAuth(request.headers.authorization, expected)) return;
    return reply
      .code(401)
      .header("www-authenticate", 'Basic realm="mde-cancel dashboard", charset="UTF-8"')
      .type("text/plain; charset=utf-8")
      .send("Authentication required.\n");
  };
}
