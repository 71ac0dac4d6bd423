/**
 * What a campaign saw of an action before it enqueued its job (`seen` on the job), and the rule
 * for using it: a terminal status is final, a non-terminal one is worth skipping the state check
 * for only while it is fresh. The worker validates it like any field and trusts it no further.
 */
import { z } from "zod";

/** A status a campaign saw is fresh this long (the contract's clarification "Fresh"). */
export const SEEN_FRESH_MS = 60_000;

/** Defender's status words (Pending, InProgress, Succeeded...): letters only, nothing to inject. */
const STATUS = /^[A-Za-z]{1,32}$/;

/** Compact on purpose: every waiting campaign job carries one in Redis. */
export const seenSchema = z.strictObject(
  {
    status: z
      .string({ error: "seen.status must be a string" })
      .regex(STATUS, "seen.status must be 1-32 letters"),
    at: z
      .number({ error: "seen.at must be a number" })
      .int("seen.at must be whole epoch milliseconds")
      .nonnegative("seen.at must be epoch milliseconds"),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown field seen.${issue.keys.join(", seen.")}`
        : "seen must be { status, at }",
  },
);

/** A status and when it was seen (epoch milliseconds, the seer's clock). */
export type SeenStatus = z.infer<typeof seenSchema>;

/**
 * True while a non-terminal status may stand in for a state check. Clocks of hosts differ a
 * little, so a time as far ahead as the window is accepted; further ahead is not believed.
 */
export function isFresh(seen: SeenStatus, now: number): boolean {
  return Math.abs(now - seen.at) <= SEEN_FRESH_MS;
}

/** The later of two sightings (a run's own check beats the campaign's older one). */
export function latestSeen(...sightings: (SeenStatus | undefined)[]): SeenStatus | undefined {
  let latest: SeenStatus | undefined;
  for (const s of sightings) if (s && (!latest || s.at > latest.at)) latest = s;
  return latest;
}
