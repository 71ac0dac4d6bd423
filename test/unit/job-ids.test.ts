import { describe, expect, it } from "vitest";
import { newJobId } from "../../shared/redis/queues.js";

describe("newJobId", () => {
  it("gives 22 URL-safe characters, never integer-looking, never starting like a CLI option, never twice", () => {
    const ids = Array.from({ length: 20_000 }, newJobId);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
      expect(id).not.toMatch(/^\d+$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
