/** Durations and rate-limit windows as the contract writes them: `<int><unit>`. */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** One budget window: at most `limit` calls in any sliding `windowMs`. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

/** Parses `30s`, `5m`, `7d`... into milliseconds; `units` restricts what is accepted. Returns undefined when malformed. */
export function parseDuration(
  text: string,
  units: readonly Unit[] = ["ms", "s", "m", "h", "d"],
): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] as Unit;
  if (!units.includes(unit)) return undefined;
  const amount = Number(match[1]);
  if (!Number.isSafeInteger(amount) || amount <= 0) return undefined;
  return amount * UNIT_MS[unit];
}

/** Parses `100/1m,1500/1h` into windows; undefined when any part is malformed. */
export function parseRateLimits(text: string): RateWindow[] | undefined {
  const parts = text.split(",").map((p) => p.trim());
  const windows: RateWindow[] = [];
  for (const part of parts) {
    const match = /^(\d+)\/(.+)$/.exec(part);
    if (!match) return undefined;
    const limit = Number(match[1]);
    const windowMs = parseDuration(match[2] ?? "", ["ms", "s", "m", "h"]);
    if (!Number.isSafeInteger(limit) || limit < 1 || windowMs === undefined) return undefined;
    windows.push({ limit, windowMs });
  }
  return windows.length > 0 ? windows : undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
