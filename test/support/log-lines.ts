import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../shared/core/logger.js";

/** A logger writing into `lines`, one JSON line each, for a test to read what was logged. */
export function capturingLogger(level: string, lines: string[]): Logger {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return createLogger(level, sink);
}
