import { constants } from "node:os";

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

export interface ShutdownSignal {
  /** Aborts on the first SIGINT or SIGTERM; its `reason` is the signal's name. */
  signal: AbortSignal;
  /** The name of the first stop signal, once one arrives. */
  received: Promise<NodeJS.Signals>;
  /** Removes the handlers still installed; call it once the command no longer waits. */
  release(): void;
}

/**
 * Catches SIGINT and SIGTERM for a command that runs until stopped (worker, simulator, `--wait`,
 * `--follow`). Install it before the command's first `await`, so a signal that comes while it is
 * still starting is kept rather than killing it halfway. Each signal is caught once: a second
 * Ctrl-C acts as Node's default and ends the process at once.
 */
export function shutdownSignal(): ShutdownSignal {
  const controller = new AbortController();
  const received = new Promise<NodeJS.Signals>((resolve) =>
    controller.signal.addEventListener("abort", () => resolve(controller.signal.reason), { once: true }),
  );
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = () => controller.abort(name);
    process.once(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    received,
    release: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** The exit code a shell reports for a process that `signal` ended: 130 for SIGINT, 143 for SIGTERM. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
