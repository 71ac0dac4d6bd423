import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import { formatDuration, type RateWindow } from "../shared/config/durations.js";
import type { RedisConnection } from "../shared/redis/connection.js";
import { IntakeProblem } from "./problem.js";

/**
 * INTAKE_RATE_LIMIT per API key, counted in Redis so that every `serve` process shares it: one
 * fixed window. Over it: 429 with Retry-After in whole seconds. Requests without a valid key were
 * refused before this runs, so only keys are counted.
 */
export async function limitEachKey(
  app: FastifyInstance,
  options: { window: RateWindow; redis: RedisConnection; prefix: string },
): Promise<void> {
  const { window } = options;
  await app.register(rateLimit, {
    max: window.limit,
    timeWindow: window.windowMs,
    redis: options.redis,
    nameSpace: `${options.prefix}:intake-rate:`,
    keyGenerator: (request) => request.intake.apiKey?.name ?? request.ip,
    allowList: (request) => request.intake.apiKey === undefined,
    errorResponseBuilder: (request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new IntakeProblem(
        429,
        `API key ${request.intake.apiKey?.name} made more than ${window.limit} requests in ${formatDuration(window.windowMs)} (INTAKE_RATE_LIMIT); retry after ${seconds} s.`,
        undefined,
        seconds,
      );
    },
  });
}
