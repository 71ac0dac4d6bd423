/**
 * The kinds of value a setting holds: each a zod schema from the environment's text to the typed
 * value. A message here is shown after the setting's name, so it reads as the rest of a sentence.
 */
import { z } from "zod";
import { GUID_PATTERN } from "../contract/guid.js";
import { isLoopbackHost } from "../core/loopback.js";
import { parseDuration, parseRateLimits, type RateWindow } from "./durations.js";

export const nonEmpty = z.string().min(1, "must not be empty");

/** A whole number in [min, max]. */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A TCP port; 0 means "off" and reads as undefined. */
export const optionalPort = int(0, 65535).transform((port) => port || undefined);

/** A URL reduced to origin and path without trailing slash; http:// only where loopback is allowed. */
export const httpsUrl = (allowLoopbackHttp: boolean) =>
  z.string().transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return invalid(ctx, "must be an absolute URL");
    }
    const loopbackHttp = allowLoopbackHttp && url.protocol === "http:" && isLoopbackHost(url.hostname);
    if (url.protocol !== "https:" && !loopbackHttp)
      return invalid(
        ctx,
        allowLoopbackHttp ? "must be https:// (http:// only for loopback hosts)" : "must be https://",
      );
    return url.origin + url.pathname.replace(/\/+$/, "");
  });

/** A GUID in any case, read in lower case. */
export const guid = z
  .string()
  .regex(GUID_PATTERN, "must be a GUID")
  .transform((s) => s.toLowerCase());

export const redisUrl = z
  .string()
  .refine((s) => /^rediss?:\/\/./.test(s), "must start with redis:// or rediss://")
  .refine((s) => URL.canParse(s), "is not a valid URL");

/** A part of every Redis key BullMQ writes, so no ':' (its separator). */
export const keyPrefix = z.string().regex(/^[^:\s]+$/, "must be non-empty, without ':' or spaces");

export const queueName = z.string().regex(/^[^:\s,]+$/, "must be non-empty, without ':', ',' or spaces");

/** Comma-separated queue names; an empty list is allowed. */
export const queueNames = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((q) => q.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^:\s]+$/, "names queues without ':' or spaces")));

export const retention = z
  .string()
  .transform(
    (s, ctx) => parseDuration(s, ["s", "m", "h", "d"]) ?? invalid(ctx, "must be <int><s|m|h|d>, e.g. 7d"),
  );

export const rateLimits = z
  .string()
  .transform(
    (s, ctx): RateWindow[] =>
      parseRateLimits(s) ?? invalid(ctx, "must be comma-separated N/<int><ms|s|m|h>, e.g. 100/1m,1500/1h"),
  );

/** One window `N/<int><ms|s|m|h>` (the per-key limit of the HTTP intake). */
export const rateWindow = z.string().transform((s, ctx): RateWindow => {
  const windows = parseRateLimits(s);
  return windows?.length === 1 && windows[0]
    ? windows[0]
    : invalid(ctx, "must be one window N/<int><ms|s|m|h>, e.g. 600/1m");
});

/** An absolute http(s) base URL without query or fragment, read without trailing slash. */
export const publicUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(s) && URL.canParse(s), {
    message: "must be an absolute http(s) URL without query or fragment, e.g. https://soar-gw.example.com",
  })
  .transform((s) => s.replace(/\/+$/, ""));

/** A Standard Webhooks secret: `whsec_` and the base64 of 24 random bytes or more (the spec's minimum). */
export const webhookSecret = z
  .string()
  .refine(
    (s) => /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s.slice(6), "base64").length >= 24,
    "must be whsec_ followed by the base64 of at least 24 random bytes",
  );

/** Comma-separated `host[:port]`, IPv6 in brackets; read in lower case. */
export const hostList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(
          /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/,
          "must be comma-separated host[:port] entries, IPv6 in brackets",
        ),
    ),
  );

/** A share in (0, 1]. */
export const share = z
  .string()
  .regex(/^(0(\.\d+)?|1(\.0+)?)$/, "must be a number in (0, 1]")
  .transform(Number)
  .pipe(z.number().gt(0, "must be greater than 0").max(1));

export const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

function invalid(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER as never;
}
