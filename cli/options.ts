import { parseDuration } from "../shared/config/durations.js";
import { UsageError } from "../shared/core/errors.js";

/** A whole-number option, refused with a sentence naming it. */
export function integerOption(
  name: string,
  value: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${name} ${JSON.stringify(value)} must be a whole number from ${min} to ${max}.`);
  return n;
}

/** A duration option in the contract's grammar (`90s`, `30m`, `2h`, `7d`), in milliseconds. */
export function durationOption(name: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new UsageError(`${name} ${JSON.stringify(value)} must be a duration such as 90s, 30m, 2h or 7d.`);
  return ms;
}

/** The sentence `check` refuses with (its UsageError's message), or undefined when it passes. */
export function problemOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (err instanceof UsageError) return err.message.replace(/\.$/, "");
    throw err;
  }
}

/** Refuses the command naming every problem at once (the contract: name each bad argument). */
export function refuse(problems: readonly (string | undefined)[], prefix = ""): void {
  const found = problems.filter((p): p is string => p !== undefined);
  if (found.length > 0) throw new UsageError(`${prefix}${found.join("; ")}.`);
}
