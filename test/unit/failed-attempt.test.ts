import { AxiosError } from "axios";
import { describe, expect, it } from "vitest";
import { BudgetWaitError, ConnectionDroppedError, TransientError } from "../../shared/core/errors.js";
import { afterFailedAttempt } from "../../shared/defender/failed-attempt.js";

const dropped = () => new AxiosError("socket hang up", "ECONNRESET");
const at = { endpoint: "get" as const, method: "GET" as const, attempt: 1, aborted: false };

describe("afterFailedAttempt", () => {
  it("sends a GET whose connection dropped once more, then gives up with ConnectionDroppedError", () => {
    expect(afterFailedAttempt(dropped(), at)).toEqual({ kind: "retry", afterMs: 50 });
    const second = afterFailedAttempt(dropped(), { ...at, attempt: 2 });
    expect(second).toMatchObject({ kind: "fail", sent: true });
    expect(second.kind === "fail" && second.error).toBeInstanceOf(ConnectionDroppedError);
  });

  it("never sends a POST again: it may have reached Defender", () => {
    const verdict = afterFailedAttempt(dropped(), { ...at, endpoint: "cancel", method: "POST" });
    expect(verdict).toMatchObject({ kind: "fail", sent: true });
    expect(verdict.kind === "fail" && verdict.error).toBeInstanceOf(ConnectionDroppedError);
  });

  it("gives the admission back when a pause stopped the request before it was written", () => {
    const paused = new BudgetWaitError("get paused by a 429 for 900 ms; not sent", 900);
    const err = new AxiosError("paused");
    err.cause = paused;
    expect(afterFailedAttempt(err, at)).toEqual({ kind: "fail", error: paused, sent: false });
  });

  it("passes the caller's abort through as it came, and maps other failures to TransientError", () => {
    const canceled = new AxiosError("canceled", "ERR_CANCELED");
    expect(afterFailedAttempt(canceled, { ...at, aborted: true })).toEqual({
      kind: "fail",
      error: canceled,
      sent: true,
    });
    const refused = afterFailedAttempt(new AxiosError("connect", "ECONNREFUSED"), at);
    expect(refused.kind === "fail" && refused.error).toBeInstanceOf(TransientError);
    expect(refused.kind === "fail" && (refused.error as Error).message).toBe(
      "get request failed: ECONNREFUSED",
    );
  });
});
