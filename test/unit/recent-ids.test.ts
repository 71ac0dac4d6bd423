import { describe, expect, it } from "vitest";
import { RecentIds } from "../../jobs/recent-ids.js";

describe("RecentIds (what results --follow remembers)", () => {
  it("passes each id once", () => {
    const seen = new RecentIds();
    expect(seen.add("a", 1)).toBe(true);
    expect(seen.add("a", 2)).toBe(false);
    expect(seen.add("b", 2)).toBe(true);
  });

  it("stays bounded by the window a follower looks back at, however long it follows", () => {
    // A follower polling every second for an hour while 20 results a second finish: its reads
    // look back 65 s at most, and it forgets what lies before that.
    const seen = new RecentIds();
    const lookBackMs = 65_000;
    let largest = 0;
    let id = 0;
    for (let now = 0; now < 3_600_000; now += 1_000) {
      for (let k = 0; k < 20; k++) seen.add(`job-${id++}`, now - k * 50);
      // A result of the window offered again (the next read returns it) is still known.
      if (seen.add(`job-${id - 20}`, now)) throw new Error(`job-${id - 20} came twice`);
      seen.forgetBefore(now - lookBackMs);
      largest = Math.max(largest, seen.size);
    }
    expect(id).toBe(72_000);
    expect(largest).toBeLessThanOrEqual(20 * 67);
  });
});
