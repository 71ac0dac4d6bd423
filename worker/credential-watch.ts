import { errorMessage, UnauthorizedError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import { backoffMs } from "../shared/defender/retry-policy.js";
import type { TokenProvider } from "../shared/defender/token-provider.js";

/** The longest wait between two tries while Entra ID is unreachable, as for a job waiting on a token. */
const MAX_UNREACHABLE_WAIT_MS = 60_000;

/**
 * Asks Entra ID for a token as soon as the worker runs, without holding its start: a refused
 * credential then shows in the log and in /readyz before the first job. It asks again in the
 * background: once the token provider allows it after a refusal (so consent granted meanwhile
 * heals /readyz without a job), with backoff while Entra ID is unreachable, and every retry
 * period otherwise (served from memory until the token is due for renewal, so a credential
 * revoked later is noticed too).
 */
export function watchCredential(
  tokens: Pick<TokenProvider, "get" | "health">,
  tenantId: string,
  logger: Logger,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let unreachable = 0;
  const check = async () => {
    try {
      await tokens.get(tenantId);
      if (unreachable > 0) logger.info({ tenantId }, "Entra ID answered: the worker has its token");
      unreachable = 0;
    } catch (err) {
      // A refusal is the token provider's to log (once); an outage is ours, once, then in debug.
      if (!(err instanceof UnauthorizedError) && !stopped) {
        unreachable += 1;
        logger[unreachable === 1 ? "warn" : "debug"](
          { tenantId, reason: errorMessage(err) },
          "Entra ID gave no token yet: jobs wait for it, and the worker keeps asking in the background",
        );
      }
    }
    if (stopped) return;
    const health = tokens.health;
    const wait = health.refusal(tenantId)
      ? health.retryInMs(tenantId)
      : unreachable > 0
        ? Math.min(MAX_UNREACHABLE_WAIT_MS, backoffMs(unreachable))
        : health.retryMs;
    timer = setTimeout(check, Math.max(1, wait));
    timer.unref();
  };
  void check();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The tenants whose credentials are watched: the current ones, each with its token provider. */
export interface WatchedTenants {
  readonly directory: { list(): readonly { tenantId: string }[] };
  tokensFor(tenantId: string): Pick<TokenProvider, "get" | "health"> | undefined;
}

/**
 * One watch per tenant served. `sync()` after a reload starts the watch of every tenant added or
 * whose credential changed (so its token is asked for at once) and stops those of tenants gone.
 */
export function watchTenants(tenants: WatchedTenants, logger: Logger): { sync(): void; stop(): void } {
  const watches = new Map<string, { tokens: object; watch: { stop(): void } }>();
  const sync = () => {
    const served = new Set<string>();
    for (const { tenantId } of tenants.directory.list()) {
      const tokens = tenants.tokensFor(tenantId);
      if (!tokens) continue;
      served.add(tenantId);
      const held = watches.get(tenantId);
      if (held?.tokens === tokens) continue;
      held?.watch.stop();
      watches.set(tenantId, { tokens, watch: watchCredential(tokens, tenantId, logger) });
    }
    for (const [tenantId, held] of watches)
      if (!served.has(tenantId)) {
        held.watch.stop();
        watches.delete(tenantId);
      }
  };
  sync();
  return {
    sync,
    stop() {
      for (const held of watches.values()) held.watch.stop();
      watches.clear();
    },
  };
}
