/** The one logger: pino JSON lines on stdout, with secrets redacted. */

import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/**
 * Redaction is the last line of defence: modules log ids, never tokens, secrets or the action's
 * free text, but a careless `err` or `headers` field is censored anyway.
 */
export const REDACT_PATHS = [
  "token",
  "accessToken",
  "access_token",
  "secret",
  "clientSecret",
  "client_secret",
  "authorization",
  "Authorization",
  "headers.authorization",
  "headers.Authorization",
  "*.token",
  "*.accessToken",
  "*.authorization",
  "*.Authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  "*.clientSecret",
  "err.config",
  "err.request",
  "err.response",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "mde-cancel" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
