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
