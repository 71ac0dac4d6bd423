import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { errorMessage, OperationalError } from "../../shared/core/errors.js";
import { isLoopbackHost } from "../../shared/core/loopback.js";
import { withTimeout } from "../../shared/core/with-timeout.js";
import { blockedRange } from "./blocked-addresses.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a name resolves to. Injected, so tests decide without a single lookup. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardPolicy {
  /** INTAKE_CALLBACK_HOSTS: `host[:port]` allowed although private or loopback; no port = any port. */
  allowedHosts: readonly string[];
  resolve: Resolver;
  /** How long the lookup may take (default 5 s: half a delivery's 10 s). */
  lookupTimeoutMs?: number;
}

export type GuardDecision =
  | { allowed: true; url: URL; hostname: string; address: string; family: 4 | 6 }
  /** `transient`: the lookup failed, which may pass; every other refusal is the URL's fault. */
  | { allowed: false; reason: string; transient: boolean };

/** The system resolver, every address (IPv4 and IPv6) in the order it gives them. */
export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

/**
 * May a callback go to `url`, and to which address? https only (http:// for listed loopback hosts
 * only). Every address the name resolves to must be public, unless the host is listed: one
 * private answer among public ones refuses it, since the connection could land on either. The
 * caller connects to the returned address, never resolving again (no DNS rebinding).
 */
export async function checkCallbackUrl(url: string, policy: GuardPolicy): Promise<GuardDecision> {
  const refuse = (reason: string, transient = false) => ({ allowed: false as const, reason, transient });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse("callbackUrl must be an absolute https:// URL");
  }
  const hostname = bare(parsed.hostname);
  const port = parsed.port || (parsed.protocol === "http:" ? "80" : "443");
  const listed = isListed(hostname, port, policy.allowedHosts);
  const httpAllowed = parsed.protocol === "http:" && listed && isLoopbackHost(hostname);
  if (parsed.protocol !== "https:" && !httpAllowed)
    return refuse(
      `callbackUrl must be https:// (http:// only for loopback hosts listed in INTAKE_CALLBACK_HOSTS), not ${parsed.protocol}//${parsed.host}`,
    );

  let addresses: ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal !== 0) addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  else {
    const timeoutMs = policy.lookupTimeoutMs ?? 5_000;
    try {
      addresses = await withTimeout(
        policy.resolve(hostname),
        timeoutMs,
        () => new OperationalError(`no answer within ${timeoutMs / 1000} s`),
      );
    } catch (err) {
      return refuse(`callbackUrl host ${hostname} could not be resolved (${errorMessage(err)})`, true);
    }
    if (addresses.length === 0) return refuse(`callbackUrl host ${hostname} resolves to no address`, true);
  }

  for (const { address, family } of addresses) {
    const range = blockedRange(address, family);
    if (httpAllowed && range !== "loopback")
      return refuse(
        `callbackUrl host ${hostname} resolves to ${address}, not loopback, so http:// is refused`,
      );
    if (range && !listed)
      return refuse(
        `callbackUrl host ${parsed.host} resolves to ${address}, a ${range} address; list ${parsed.host} in INTAKE_CALLBACK_HOSTS to allow it`,
      );
  }
  const [chosen] = addresses as [ResolvedAddress];
  return { allowed: true, url: parsed, hostname, address: bare(chosen.address), family: chosen.family };
}

/** `host` or `host:port` entries, IPv6 in brackets, matched as the URL parser normalizes hosts. */
function isListed(hostname: string, port: string, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((entry) => {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim());
    if (!match) return false;
    let host: string;
    try {
      host = bare(new URL(`https://${match[1]}`).hostname);
    } catch {
      return false;
    }
    return host === hostname && (match[2] === undefined || Number(match[2]) === Number(port));
  });
}

function bare(host: string): string {
  return host.replace(/^\[|\]$/g, "").toLowerCase();
}
