import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { REDIS_URL } from "./redis.js";

export interface RedisGate {
  /** Point a client here instead of REDIS_URL. */
  url: string;
  /** Connections accepted but not yet answered (the gate is shut). */
  held(): number;
  /** Lets held and new connections through to Redis. */
  open(): void;
  /** Resets every connection and every new one: Redis gone mid-command, from the client's side. */
  reset(): void;
  /** New connections reset since `reset()`: each is a client trying again after an error. */
  refused(): number;
  /**
   * Lets connections through until Redis has sent one `marker` (e.g. "PONG", the end of
   * connectRedis's handshake), then freezes it: nothing more passes either way, as if Redis had
   * stopped (SIGSTOP, a cut network) after the client connected. The sockets stay open.
   */
  freezeAfter(marker: string): void;
  /** Connections frozen by freezeAfter so far. */
  frozen(): number;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of the test Redis. Shut (the default), it accepts connections
 * and answers nothing: a Redis slow to answer at start. Opened, it passes bytes both ways.
 */
export async function startRedisGate(options: { open?: boolean } = {}): Promise<RedisGate> {
  const target = new URL(REDIS_URL);
  let state: "shut" | "open" | "reset" = options.open ? "open" : "shut";
  const held: Socket[] = [];
  let refused = 0;
  let freezeMarker: string | undefined;
  let frozen = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
    return socket;
  };
  const pass = (client: Socket) => {
    const upstream = track(connect(Number(target.port || 6379), target.hostname));
    let stopped = false;
    client.on("data", (chunk) => {
      if (!stopped) upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (stopped) return;
      client.write(chunk);
      if (freezeMarker !== undefined && chunk.includes(freezeMarker)) {
        stopped = true;
        frozen += 1;
      }
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.resume(); // a held client was paused
  };
  const open = () => {
    state = "open";
    for (const client of held.splice(0)) pass(client);
  };
  const server = createServer((client) => {
    track(client);
    if (state === "reset") {
      refused += 1;
      client.resetAndDestroy();
    } else if (state === "open") pass(client);
    else held.push(client.pause());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    held: () => held.length,
    open,
    reset() {
      state = "reset";
      for (const socket of sockets) socket.resetAndDestroy();
    },
    refused: () => refused,
    freezeAfter(marker) {
      freezeMarker = marker;
      open();
    },
    frozen: () => frozen,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
