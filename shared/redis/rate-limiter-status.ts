/**
 * The limiter's read-only view, for metrics, `producer status` and the doctor: apart from
 * RateLimiter since it takes no budget and shares nothing with admission but the keys.
 */

import type { RateWindow } from "../config/durations.js";
import type { LuaScript } from "./lua-script.js";

export interface RateLimiterStatus {
  windows: { limit: number; windowMs: number; used: number; left: number }[];
  pausedForMs: number;
}

/** Calls counted in each window right now (all classes, open ones included) and the remaining pause. */
export async function readStatus(
  statusScript: LuaScript<number[]>,
  base: string,
  windows: readonly RateWindow[],
): Promise<RateLimiterStatus> {
  const reply = await statusScript(
    `${base}:log`,
    `${base}:pause`,
    windows.length,
    ...windows.map((w) => w.windowMs),
  );
  return {
    pausedForMs: reply[0] ?? 0,
    windows: windows.map((w, i) => {
      const used = reply[i + 1] ?? 0;
      return { limit: w.limit, windowMs: w.windowMs, used, left: Math.max(0, w.limit - used) };
    }),
  };
}
