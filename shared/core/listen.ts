import type { AddressInfo } from "node:net";
import { errorMessage, OperationalError } from "./errors.js";

/** What listens: a Fastify instance (the intake, the worker's operations servers). */
export interface Listener {
  listen(options: { port: number; host: string }): Promise<unknown>;
  readonly server: { address(): AddressInfo | string | null };
}

/**
 * Listens and returns the bound port, or fails with an OperationalError naming the variables to
 * change (a port in use is the usual cause when two processes share a host).
 */
export async function listenOn(
  app: Listener,
  port: number,
  host: string,
  variables: { port: string; host: string },
): Promise<number> {
  try {
    await app.listen({ port, host });
  } catch (err) {
    throw new OperationalError(
      `cannot listen on ${host}:${port} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); set ${variables.port} to a free port or ${variables.host} to an address of this host.`,
    );
  }
  const address = app.server.address();
  return typeof address === "object" && address ? address.port : port;
}
