import fc from "fast-check";
import { isGuid } from "../../../shared/contract/guid.js";

/** Arbitraries of input a producer must never get past the worker or the CLI. */

export const VALID_ID = "5382f7ea-7557-4ab7-9782-d50480024a4e";
const base = { machineActionId: VALID_ID, comment: "stop" };

/** Strings that look like a GUID and are not one. */
export const guidLookAlike = fc
  .oneof(
    fc.uuid().map((u) => `{${u}}`),
    fc.uuid().map((u) => u.replace(/-/g, "")),
    fc.uuid().map((u) => `${u}\n`),
    fc.uuid().map((u) => ` ${u}`),
    fc.uuid().map((u) => `${u}/../../machines/x/offboard`),
    fc.uuid().map((u) => `../${u}`),
    fc.uuid().map((u) => `urn:uuid:${u}`),
    fc.uuid().map((u) => u.replace(/[0-9]/, "\uff10")), // a full-width digit
    fc.uuid().map((u) => u.replace(/[a-f]/, "\u0430")), // a Cyrillic a
    fc.uuid().map((u) => u.slice(0, -1)),
    fc.uuid().map((u) => `${u}0`),
    fc.uuid().map((u) => u.replace("-", "_")),
    fc.uuid().map((u) => `${u}%00`),
    fc.uuid().map((u) => encodeURIComponent(`${u}/cancel`)),
  )
  .filter((s) => !isGuid(s));

const traversal = fc.constantFrom(
  "../../api/machines",
  "..%2f..%2fmachines",
  "/etc/passwd",
  "..\\..\\x",
  "%2e%2e/",
);
const huge = (min: number, max: number) =>
  fc.integer({ min, max }).map((n) => "\u00e9x".repeat(Math.ceil(n / 2)));
const hostileString = fc
  .oneof(
    guidLookAlike,
    traversal,
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary" }),
    huge(40, 40_000),
  )
  .filter((s) => !isGuid(s));
/** JSON values that are not strings, from numbers to deeply nested objects and arrays. */
const nonString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 2 })),
  fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
  // From depth 1: at depth 0 this would be the valid id itself, a string (a seed once drew it as a comment).
  fc.integer({ min: 1, max: 300 }).map((depth) => {
    let v: unknown = VALID_ID;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { machineActionId: v };
    return v;
  }),
);
const withKey = (key: string, value: unknown) => {
  const o: Record<string, unknown> = { ...base };
  // defineProperty, so that "__proto__" becomes an own key that JSON carries, as a hostile producer sends it.
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
};
const allowed = ["machineActionId", "comment", "tenantId", "requestedBy", "correlationId", "campaignId"];

/** Job data the worker must refuse as invalid_job, each case invalid by construction. */
export const hostilePayload: fc.Arbitrary<unknown> = fc
  .oneof(
    fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.jsonValue({ maxDepth: 2 })),
    ),
    fc.oneof(hostileString, nonString).map((id) => ({ ...base, machineActionId: id })),
    fc.constantFrom({ comment: "stop" }, { machineActionId: VALID_ID }, {}),
    fc
      .oneof(fc.constantFrom("", "   ", "\n\t"), huge(1001, 20_000), nonString)
      .map((comment) => ({ ...base, comment })),
    fc.oneof(hostileString, fc.integer(), nonString).map((tenantId) => ({ ...base, tenantId })),
    fc
      .tuple(
        fc.constantFrom("requestedBy", "correlationId", "campaignId"),
        fc.oneof(huge(201, 5_000), fc.integer(), nonString),
      )
      .map(([key, value]) => ({ ...base, [key]: value })),
    fc
      .tuple(
        fc.constantFrom(
          "__proto__",
          "constructor",
          "prototype",
          "toString",
          "hasOwnProperty",
          "MachineActionId",
          "padding",
        ),
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), huge(16_000, 20_000)),
      )
      .map(([key, value]) => withKey(key, value)),
    fc
      .dictionary(
        fc.string().filter((k) => !allowed.includes(k)),
        fc.jsonValue({ maxDepth: 2 }),
        { minKeys: 1, maxKeys: 4 },
      )
      .map((extra) => ({ ...extra, ...base, ...extra })),
    // A "__proto__" key can end up as the object's prototype, which JSON drops: what travels is then
    // the valid base job itself (seen with seed 278527859), so that one payload is left out.
  )
  .filter((p) => JSON.stringify(p) !== JSON.stringify(base));

const noNul = (s: string) => !s.includes("\u0000");
const validPriority = (s: string) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 2_097_151;

/** `mde-cancel enqueue` arguments with exactly one kind of mistake: the command must exit 2. */
export const hostileEnqueueArgs: fc.Arbitrary<string[]> = fc.oneof(
  fc
    .tuple(
      fc.array(fc.uuid(), { maxLength: 3 }),
      fc
        .oneof(guidLookAlike, fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }))
        .filter((s) => noNul(s) && !isGuid(s)),
      fc.nat(),
    )
    .map(([good, bad, at]) => {
      const ids = [...good];
      ids.splice(at % (good.length + 1), 0, bad);
      return [...ids, "--comment", "fuzz"];
    }),
  fc
    .tuple(fc.uuid(), fc.oneof(fc.constantFrom("", " ", "\t\n"), huge(1001, 3_000)))
    .map(([id, comment]) => [id, "--comment", comment]),
  fc
    .tuple(
      fc.uuid(),
      fc.oneof(
        fc.constantFrom("0", "-1", "2097152", "1.5", "1e3", "high", " 7", "0x10", "", "NaN", "Infinity"),
        fc.string().filter((s) => noNul(s) && !validPriority(s)),
      ),
    )
    .map(([id, priority]) => [id, "--comment", "fuzz", "--priority", priority]),
  fc
    .tuple(fc.uuid(), hostileString.filter(noNul))
    .map(([id, tenant]) => [id, "--comment", "fuzz", "--tenant", tenant]),
);
