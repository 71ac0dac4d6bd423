import { createServer, type Socket, connect as tcpConnect } from "node:net";

export interface SlowFrontDoor {
  /** `https://127.0.0.1:PORT`: the simulator's API behind the front door (same certificate). */
  url: string;
  /** Connections opened so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A TCP front door on loopback that holds every new connection before passing it on to `target`, as a
 * distant or busy front end makes a cold TLS connection slow: a request sent on a new connection arrives
 * that much after it was admitted; one on a kept-alive connection does not. `delayMs` is the hold, or
 * gives the hold of the n-th connection (from 0).
 */
export async function startSlowFrontDoor(
  target: string,
  delayMs: number | ((n: number) => number),
): Promise<SlowFrontDoor> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let count = 0;
  const server = createServer((client) => {
    const holdMs = typeof delayMs === "number" ? delayMs : delayMs(count);
    count++;
    open.add(client);
    client.pause();
    const timer = setTimeout(() => {
      const upstream = tcpConnect(Number(port), hostname, () => {
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      open.add(upstream);
      upstream.on("error", () => client.destroy());
      upstream.on("close", () => {
        open.delete(upstream);
        client.destroy();
      });
      client.on("close", () => upstream.destroy());
    }, holdMs);
    client.on("error", () => undefined);
    client.on("close", () => {
      clearTimeout(timer);
      open.delete(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const listening = typeof address === "object" && address ? address.port : 0;
  return {
    url: `https://127.0.0.1:${listening}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
