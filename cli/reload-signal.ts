export interface ReloadSignal {
  /** From now on `reload` runs on every SIGHUP; one that came before runs at once. */
  handle(reload: () => void): void;
  /** Removes the handler; call it once the command no longer runs. */
  release(): void;
}

/**
 * Catches SIGHUP for a command that serves until stopped (`worker`): the signal an operator sends
 * to make it read its files again (MDE_TENANTS_FILE) without a restart. Install it before the
 * command's first `await`: a SIGHUP while it starts is kept and handled once it runs, instead of
 * ending the process (Node's default).
 */
export function reloadSignal(): ReloadSignal {
  let pending = false;
  let reload: (() => void) | undefined;
  const handler = () => {
    if (reload) reload();
    else pending = true;
  };
  process.on("SIGHUP", handler);
  return {
    handle(fn) {
      reload = fn;
      if (pending) fn();
      pending = false;
    },
    release: () => process.off("SIGHUP", handler),
  };
}
