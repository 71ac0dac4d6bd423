/**
 * The handle of a call the limiter admitted: the one place a call's end is written to its log. A
 * function apart from RateLimiter since the handle outlives the take that made it (it travels with
 * the request, and with a job run when taken ahead).
 */

import type { SettleBatch } from "./settle-batch.js";

/** An admitted call: `settle` when its answer arrived, `release` when it was never sent. Neither throws. */
export interface Admission {
  ok: true;
  settle(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Its answer time is Redis's time at admission (`admittedAt`) plus the time measured here from
 * sending the take (`sentAt`, performance.now()) to the answer, which can only overcount. A failed
 * write leaves the call open: it then holds its slot until its reservation ends, which only costs
 * budget. Only the first of settle and release writes; `onAnswer` hears the measured time.
 */
export function admissionHandle(
  settles: SettleBatch,
  base: string,
  member: string,
  times: { admittedAt: number; sentAt: number },
  onAnswer: (tookMs: number) => void,
): Admission {
  let done = false;
  const write = (at: number | "") => {
    if (done) return Promise.resolve();
    done = true;
    return settles.add(base, member, at);
  };
  return {
    ok: true,
    settle: () => {
      const tookMs = performance.now() - times.sentAt;
      onAnswer(tookMs);
      return write(times.admittedAt + Math.ceil(tookMs) + 1);
    },
    release: () => write(""),
  };
}
