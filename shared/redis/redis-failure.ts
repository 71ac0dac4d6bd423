/** What a failed Redis call means to a person: one sentence naming Redis, whatever ioredis said. */

import { errorMessage, isMdeCancelError, OperationalError } from "../core/errors.js";
import { describeRedisUrl } from "./connection.js";

// ioredis's own words for "Redis did not answer": a command timeout, retries used up while
// reconnecting, a connection closed or not writable; and the socket errors under them.
const LOST =
  /Command timed out|max retries|Connection is closed|isn't (writeable|ready)|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EHOSTUNREACH|socket hang up/i;

/**
 * The OperationalError a command reports for a Redis call that failed: Redis stopped answering,
 * or refused the call (an error reply such as OOM or READONLY). Anything else, ours or not Redis's,
 * is returned as it is.
 */
export function redisFailure(err: unknown, redisUrl?: string): unknown {
  if (isMdeCancelError(err) || !(err instanceof Error)) return err;
  const where = redisUrl === undefined ? "Redis" : `Redis at ${describeRedisUrl(redisUrl)}`;
  if (LOST.test(err.message) || err.name === "MaxRetriesPerRequestError")
    return new OperationalError(
      `${where} stopped answering (${err.message}); check that it runs and is reachable, then run the command again.`,
    );
  if (err.name === "ReplyError")
    return new OperationalError(`${where} refused a command (${errorMessage(err)}).`);
  return err;
}
