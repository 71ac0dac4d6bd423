import type { FastifyRequest } from "fastify";

/**
 * An absolute URL of this service (Logic Apps follows only absolute Locations): under
 * INTAKE_PUBLIC_URL behind a proxy, else from the request's own scheme and Host.
 */
export function absoluteUrl(request: FastifyRequest, publicUrl: string | undefined, path: string): string {
  return `${publicUrl ?? `${request.protocol}://${request.host}`}${path}`;
}
