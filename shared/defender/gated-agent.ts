import https from "node:https";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { TransientError } from "../core/errors.js";

type OnCreate = (err: Error | null, socket: Duplex) => void;

/**
 * How long after its admission a call sent through a GatedAgent can still reach Defender: its
 * connection's ready timeout, and a second for the hand-over. A call never answered holds its budget
 * slot that long (the limiter's `reservationMs`).
 */
export function latestArrivalMs(readyTimeoutMs: number): number {
  return readyTimeoutMs + 1_000;
}

/**
 * A keep-alive HTTPS agent that opens each new connection, then asks `gate` whether its request may
 * still go before handing the socket over: nothing is written before that. A call admitted just before
 * another worker's 429 paused its endpoint, while its connection was still being opened (a cold TLS
 * handshake can take hundreds of ms), so never reaches Microsoft inside the pause. Requests on kept-alive
 * sockets are written within a millisecond of their admission and skip the gate.
 *
 * `gate` gets the options of the request the connection is opened for (so it can tell which call that
 * is, from a field the caller put there), and rejects to fail the request with its error. A
 * connection not ready (handshake and gate) within `readyTimeoutMs`, or closed before, fails it too:
 * the request's own timeout only starts once it has its socket.
 */
export class GatedAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly gate: (request: https.RequestOptions) => Promise<void>,
    private readonly readyTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, oncreate?: OnCreate): Duplex | null | undefined {
    const socket = super.createConnection(options) as TLSSocket;
    // Node's agent always passes the callback; without one there is nobody to hand the socket to later.
    if (!oncreate) return socket;
    const startedAt = performance.now();
    const closed = () => done(new TransientError("connection closed before the request was sent"));
    const done = (err: Error | null) => {
      clearTimeout(timer);
      socket.off("error", done);
      socket.off("close", closed);
      socket.off("secureConnect", ready);
      if (err) socket.destroy();
      oncreate(err, socket);
    };
    const ready = () => {
      this.gate(options).then(() => {
        // Never write later than the timeout after the call was admitted: its reservation ends then.
        if (performance.now() - startedAt > this.readyTimeoutMs) done(this.timeout());
        else if (socket.destroyed) closed();
        else done(null);
      }, done);
    };
    const timer = setTimeout(() => done(this.timeout()), this.readyTimeoutMs);
    socket.once("secureConnect", ready);
    socket.on("error", done);
    socket.once("close", closed);
    return undefined;
  }

  private timeout(): TransientError {
    return new TransientError(`connection not ready within ${this.readyTimeoutMs} ms`);
  }
}
