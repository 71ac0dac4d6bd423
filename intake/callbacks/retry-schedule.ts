/**
 * When a failed callback delivery is tried again: a pure function of the time since the first
 * attempt, so the schedule holds however long attempts take and across restarts of `serve`.
 * Standard Webhooks' etiquette: growing delays over a day or more, with jitter, 410 stops,
 * Retry-After honoured.
 */

export interface RetrySchedule {
  /** When retries are due, counted from the first attempt, before jitter; increasing. */
  offsetsMs: readonly number[];
  /** Each offset is stretched by up to this share, so deliveries that failed together spread out. */
  jitter: number;
}

/**
 * The first retry within 30 s (15 s, +10% at most), the last 24 h after the first attempt (or a
 * little later): ten attempts in all. Consecutive offsets grow by far more than the jitter, so
 * the jittered schedule stays increasing.
 */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  offsetsMs: [15_000, 120_000, 600_000, 2_700_000, 7_200_000, 18_000_000, 36_000_000, 57_600_000, 86_400_000],
  jitter: 0.1,
};

/** A retry never follows an attempt sooner than this, whatever the offsets say. */
export const MIN_RETRY_DELAY_MS = 1_000;

export interface FailedAttempt {
  /** Time from the first attempt's start to this attempt's failure. */
  elapsedMs: number;
  /** The HTTP status, or undefined when no answer came (network error, timeout, refused lookup). */
  status?: number;
  /** What the answer's Retry-After asked for, in ms. */
  retryAfterMs?: number;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: "gone" | "exhausted" };

/** The schedule's offsets after jitter, as one draw of `random` sees them. */
export function jitteredOffsets(schedule: RetrySchedule, random: () => number = Math.random): number[] {
  return schedule.offsetsMs.map((offset) => Math.round(offset * (1 + schedule.jitter * random())));
}

/**
 * What follows a failed attempt: 410 Gone stops (the receiver asks us to), otherwise the next
 * offset still ahead, until the last one has been tried. A 429 or 503 with Retry-After waits at
 * least that long, but never past the schedule's last offset.
 */
export function nextRetry(
  attempt: FailedAttempt,
  schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE,
  random: () => number = Math.random,
): RetryDecision {
  if (attempt.status === 410) return { retry: false, reason: "gone" };
  const offsets = jitteredOffsets(schedule, random);
  const last = Math.max(...offsets);
  const due = offsets.find((offset) => offset >= attempt.elapsedMs + MIN_RETRY_DELAY_MS);
  // A late attempt (serve was down) may have passed every offset: one more at the end, then stop.
  const lastBase = schedule.offsetsMs[schedule.offsetsMs.length - 1] ?? 0;
  if (due === undefined && attempt.elapsedMs >= lastBase) return { retry: false, reason: "exhausted" };
  let delayMs = due === undefined ? MIN_RETRY_DELAY_MS : due - attempt.elapsedMs;
  const throttled = attempt.status === 429 || attempt.status === 503;
  if (throttled && attempt.retryAfterMs !== undefined)
    delayMs = Math.max(delayMs, Math.min(attempt.retryAfterMs, last - attempt.elapsedMs));
  return { retry: true, delayMs };
}
