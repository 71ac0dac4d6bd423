import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postPinned } from "../../intake/callbacks/pinned-post.js";
import { ensureServerCert } from "../../sim/certs.js";
import { certDir } from "../support/harness.js";

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});

/** An HTTPS server on 127.0.0.1 that hands every request to `handle`, counting them. */
async function serve(
  handle: Parameters<typeof createServer>[1],
): Promise<{ port: number; hits: () => number }> {
  const tls = ensureServerCert(certDir);
  let hits = 0;
  const server = createServer(
    { key: readFileSync(tls.keyPath), cert: readFileSync(tls.certPath) },
    (req, res) => {
      hits++;
      handle?.(req, res);
    },
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, hits: () => hits };
}

const target = (port: number, path = "/cb") => ({
  url: new URL(`https://localhost:${port}${path}`),
  address: "127.0.0.1",
  family: 4 as const,
});

describe("postPinned", () => {
  it("gives up when no answer comes within its time limit", async () => {
    const silent = await serve(() => undefined);
    const started = Date.now();
    await expect(postPinned(target(silent.port), "{}", {}, 300)).rejects.toThrow(/^no answer within 0.3 s$/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("follows no redirect: a 3xx is just an answer", async () => {
    const elsewhere = await serve((_req, res) => res.writeHead(200).end());
    const redirecting = await serve((_req, res) =>
      res.writeHead(307, { location: `https://localhost:${elsewhere.port}/cb` }).end(),
    );
    expect(await postPinned(target(redirecting.port), "{}", {}, 5_000)).toEqual({ status: 307 });
    expect(elsewhere.hits()).toBe(0);
  });

  it("reads Retry-After and sends the body as given", async () => {
    let body = "";
    const busy = await serve((req, res) => {
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => res.writeHead(429, { "retry-after": "120" }).end());
    });
    expect(
      await postPinned(target(busy.port), '{"a":1}', { "content-type": "application/json" }, 5_000),
    ).toEqual({
      status: 429,
      retryAfter: "120",
    });
    expect(body).toBe('{"a":1}');
  });
});
