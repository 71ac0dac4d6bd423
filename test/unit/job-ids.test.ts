import { describe, expect, it } from "vitest";
import { newJobId } from "../../shared/redis/queues.js";

describe("newJobId", () => {
  it("gives 22 URL-safe characters, never integer-looking, never starting like a CLI option, never twice", () => {
    // About 1 in 32 random ids starts with - or _: 20,000 draws meet that case hundreds of times.
    // One assertion over all of them (20,000 expect calls took over 5 s on a loaded machine).
    const ids = Array.from({ length: 20_000 }, newJobId);
    expect(ids.filter((id) => !/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/.test(id) || /^\d+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
