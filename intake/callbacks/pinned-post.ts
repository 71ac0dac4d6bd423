import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { errorMessage, OperationalError } from "../../shared/core/errors.js";

/** Where to send: the URL, and the one address the guard checked for its host. */
export interface PinnedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export interface PostAnswer {
  status: number;
  retryAfter?: string;
}

/**
 * POSTs `body` to the target's URL over a connection to exactly the checked address: the name
 * still goes into the Host header, SNI and certificate check, but is never looked up again (a
 * second lookup could answer differently: DNS rebinding). A fresh connection each time, no
 * redirect followed (3xx is just an answer), the whole exchange bounded by `timeoutMs`.
 * Resolves with the status once the headers arrive; rejects with an OperationalError when no
 * answer comes.
 */
export function postPinned(
  target: PinnedTarget,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostAnswer> {
  const { url, address, family } = target;
  // Node asks for every address (autoSelectFamily) or for one; either way it gets only ours.
  const lookup = ((_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: "POST",
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      auth: url.username
        ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
        : undefined,
      lookup,
      agent: false,
      signal: AbortSignal.timeout(timeoutMs),
    });
    req.on("response", (res) => {
      // The body means nothing to us; read it away so the connection closes cleanly.
      res.resume();
      const retryAfter = res.headers["retry-after"];
      resolve({ status: res.statusCode ?? 0, ...(retryAfter ? { retryAfter } : {}) });
    });
    req.on("error", (err) => {
      const timedOut = err.name === "AbortError" || err.name === "TimeoutError";
      reject(new OperationalError(timedOut ? `no answer within ${timeoutMs / 1000} s` : errorMessage(err)));
    });
    req.end(body);
  });
}
