import { describe, expect, it } from "vitest";
import { deduplicationId, newJobId } from "../../shared/redis/queues.js";

describe("newJobId", () => {
  it("gives 22 URL-safe characters, never integer-looking, never starting like a CLI option, never twice", () => {
    // About 1 in 32 random ids starts with - or _: 20,000 draws meet that case hundreds of times.
    // One assertion over all of them (20,000 expect calls took over 5 s on a loaded machine).
    const ids = Array.from({ length: 20_000 }, newJobId);
    expect(ids.filter((id) => !/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/.test(id) || /^\d+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("deduplicationId", () => {
  const TENANT = "11111111-2222-3333-4444-555555555555";
  const OTHER = "99999999-2222-3333-4444-555555555555";
  const ACTION = "5382f7ea-7557-4ab7-9782-d50480024a4e";

  it("names one action of one tenant in 22 URL-safe characters, whatever the case of either id", () => {
    const id = deduplicationId(TENANT, ACTION);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(deduplicationId(TENANT.toUpperCase(), ACTION.toUpperCase())).toBe(id);
  });

  it("differs between actions and between tenants", () => {
    const actions = Array.from({ length: 10_000 }, () => crypto.randomUUID());
    const ids = new Set(actions.map((a) => deduplicationId(TENANT, a)));
    expect(ids.size).toBe(actions.length);
    expect(deduplicationId(OTHER, ACTION)).not.toBe(deduplicationId(TENANT, ACTION));
  });
});
