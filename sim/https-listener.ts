import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface HttpsListener {
  /** `https://host:port` as clients should address it. */
  url: string;
  port: number;
  /** Drops a request's connection with a TCP RST (ECONNRESET at the client), unanswered. */
  reset(req: IncomingMessage): void;
  close(): Promise<void>;
}

/**
 * One HTTPS port of the simulator. It tracks raw sockets, since a reset needs the TCP socket under
 * the TLS one and keep-alive clients would otherwise hold close() open indefinitely.
 */
export async function listenHttps(
  options: { port?: number; host?: string; tls: { key: string | Buffer; cert: string | Buffer } },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HttpsListener> {
  const sockets = new Map<string, Socket>();
  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, handler);
  server.on("connection", (socket: Socket) => {
    const key = peer(socket);
    sockets.set(key, socket);
    socket.once("close", () => sockets.delete(key));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host && !["0.0.0.0", "::"].includes(options.host) ? options.host : "127.0.0.1";
  const url = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    reset: (req) => {
      const raw = sockets.get(peer(req.socket));
      if (raw) raw.resetAndDestroy();
      else req.socket.destroy();
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets.values()) socket.destroy();
      });
      return closing;
    },
  };
}

const peer = (socket: Socket) => `${socket.remoteAddress}:${socket.remotePort}`;
