import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { shutdownSignal, signalExitCode } from "../../cli/shutdown-signal.js";
import { stopWorker } from "../../cli/worker-command.js";
import { OperationalError } from "../../shared/core/errors.js";
import { createLogger } from "../../shared/core/logger.js";

describe("shutdownSignal", () => {
  it("aborts on a real SIGTERM, naming it, and catches each signal once", async () => {
    const before = { int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") };
    const shutdown = shutdownSignal();
    try {
      process.kill(process.pid, "SIGTERM");
      expect(await shutdown.received).toBe("SIGTERM");
      expect(shutdown.signal.aborted).toBe(true);
      expect(shutdown.signal.reason).toBe("SIGTERM");
      // The SIGTERM handler is spent; SIGINT is still caught until released.
      expect(process.listenerCount("SIGTERM")).toBe(before.term);
      expect(process.listenerCount("SIGINT")).toBe(before.int + 1);
    } finally {
      shutdown.release();
    }
    expect(process.listenerCount("SIGINT")).toBe(before.int);
  });

  it("reports the exit code a shell shows for a process a signal ended", () => {
    expect(signalExitCode("SIGINT")).toBe(130);
    expect(signalExitCode("SIGTERM")).toBe(143);
  });
});

describe("stopWorker", () => {
  const lines: string[] = [];
  const logger = createLogger(
    "info",
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );

  it("exits 1, logging why, when the worker does not stop cleanly; 0 when it does", async () => {
    const failing = {
      stop: () => Promise.reject(new OperationalError("Redis went away while closing")),
    };
    expect(await stopWorker(failing, logger)).toBe(1);
    const logged = JSON.parse(lines.at(-1) as string);
    expect(logged).toMatchObject({
      msg: "worker did not stop cleanly",
      err: "Redis went away while closing",
    });
    expect(await stopWorker({ stop: () => Promise.resolve() }, logger)).toBe(0);
  });
});
