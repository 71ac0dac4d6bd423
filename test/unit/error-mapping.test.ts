import { describe, expect, it } from "vitest";
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  ThrottledError,
  TransientError,
  UnauthorizedError,
} from "../../shared/core/errors.js";
import { responseError } from "../../shared/defender/response-error.js";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const body = (code: string) => ({
  error: { code, message: "free text", target: "43f4cb08-8fac-4b65-9db1-745c2ae65f3a" },
});

describe("responseError", () => {
  it("lets 2xx through", () => {
    expect(responseError("get", 200, undefined, {}, NOW)).toBeUndefined();
  });
  it("reads Defender's error code and target", () => {
    const err = responseError("cancel", 403, undefined, body("DisallowedOperation"), NOW);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).disallowedOperation).toBe(true);
    expect(err?.target).toBe("43f4cb08-8fac-4b65-9db1-745c2ae65f3a");
    expect(err?.httpStatus).toBe(403);
    expect(
      (responseError("cancel", 403, undefined, body("Forbidden"), NOW) as ForbiddenError).disallowedOperation,
    ).toBe(false);
  });
  it("maps each status to one outcome class", () => {
    expect(responseError("get", 404, undefined, body("ResourceNotFound"), NOW)).toBeInstanceOf(NotFoundError);
    expect(responseError("cancel", 400, undefined, body("BadRequest"), NOW)).toBeInstanceOf(BadRequestError);
    expect(responseError("cancel", 409, undefined, "", NOW)).toBeInstanceOf(BadRequestError);
    expect(responseError("get", 401, undefined, body("Unauthorized"), NOW)).toBeInstanceOf(UnauthorizedError);
    expect(responseError("get", 500, undefined, undefined, NOW)).toBeInstanceOf(TransientError);
    expect(responseError("get", 502, undefined, "<html>", NOW)).toBeInstanceOf(TransientError);
    expect(responseError("get", 503, undefined, undefined, NOW)).toBeInstanceOf(TransientError);
    expect(responseError("get", 408, undefined, undefined, NOW)).toBeInstanceOf(TransientError);
  });
  it("turns 429, and 503 with Retry-After, into a throttle with its wait", () => {
    const t = responseError("get", 429, "7", body("TooManyRequests"), NOW) as ThrottledError;
    expect(t).toBeInstanceOf(ThrottledError);
    expect(t.waitMs).toBe(7_000);
    expect((responseError("get", 429, undefined, undefined, NOW) as ThrottledError).waitMs).toBe(60_000);
    const s = responseError("cancel", 503, "Sun, 29 Nov 2026 12:00:30 GMT", undefined, NOW) as ThrottledError;
    expect(s).toBeInstanceOf(ThrottledError);
    expect(s.waitMs).toBe(30_000);
  });
  it("survives hostile bodies", () => {
    const err = responseError("get", 400, undefined, { error: { code: { $gt: 1 }, target: 5 } }, NOW);
    expect(err?.upstreamCode).toBeUndefined();
    expect(err?.target).toBeUndefined();
  });
});
