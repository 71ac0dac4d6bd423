import { describe, expect, it } from "vitest";
import type { MachineAction } from "../../sim/action-store.js";
import { ActionStore } from "../../sim/action-store.js";
import { compileFilter, ODataFilterError, parseFilter } from "../../sim/odata-filter.js";

const store = new ActionStore();
const a = store.add({
  id: "11111111-1111-4111-8111-111111111111",
  status: "Pending",
  type: "Isolate",
  machineId: "a".repeat(40),
  requestor: "O'Brien@contoso.com",
  creationDateTimeUtc: "2024-05-01T10:00:00.1234567Z",
});
const b = store.add({
  id: "22222222-2222-4222-8222-222222222222",
  status: "Succeeded",
  type: "RunAntiVirusScan",
  machineId: "b".repeat(40),
  requestor: "analyst@contoso.com",
  creationDateTimeUtc: "2024-05-02T10:00:00Z",
});
const c = store.add({
  id: "33333333-3333-4333-8333-333333333333",
  status: "InProgress",
  type: "Isolate",
  machineId: "b".repeat(40),
  requestor: "analyst@contoso.com",
  creationDateTimeUtc: "2024-05-03T10:00:00Z",
});
const all = [a, b, c];
const ids = (filter: string) => all.filter(compileFilter(filter)).map((x: MachineAction) => x.id.slice(0, 1));

describe("OData $filter on machine actions", () => {
  it("compares strings with eq and ne", () => {
    expect(ids("status eq 'Pending'")).toEqual(["1"]);
    expect(ids("status ne 'Pending'")).toEqual(["2", "3"]);
    expect(ids(`machineId eq '${"b".repeat(40)}'`)).toEqual(["2", "3"]);
  });

  it("accepts field names and operators in any case, and values case-insensitively", () => {
    expect(ids("Status EQ 'Pending'")).toEqual(["1"]);
    expect(ids(`MACHINEID eq '${"B".repeat(40)}'`)).toEqual(["2", "3"]);
    expect(ids("Id In ('33333333-3333-4333-8333-333333333333') OR Status eq 'pending'")).toEqual(["1", "3"]);
    expect(ids("requestor eq 'ANALYST@contoso.com'")).toEqual(["2", "3"]);
  });

  it("supports in (...)", () => {
    expect(ids("status in ('Pending','InProgress')")).toEqual(["1", "3"]);
    expect(ids("id in ('22222222-2222-4222-8222-222222222222')")).toEqual(["2"]);
  });

  it("honours precedence: not over and over or, and parentheses", () => {
    expect(ids("type eq 'Isolate' or status eq 'Succeeded' and requestor eq 'nobody'")).toEqual(["1", "3"]);
    expect(
      ids("(type eq 'Isolate' or status eq 'Succeeded') and requestor eq 'analyst@contoso.com'"),
    ).toEqual(["2", "3"]);
    expect(ids("not status eq 'Pending' and type eq 'Isolate'")).toEqual(["3"]);
    expect(ids("not (status eq 'Pending' or type eq 'Isolate')")).toEqual(["2"]);
  });

  it("unescapes doubled quotes in string literals", () => {
    expect(ids("requestor eq 'O''Brien@contoso.com'")).toEqual(["1"]);
  });

  it("compares unquoted ISO dates on creationDateTimeUtc", () => {
    expect(ids("creationDateTimeUtc ge 2024-05-02T00:00:00Z")).toEqual(["2", "3"]);
    expect(ids("creationDateTimeUtc lt 2024-05-02T10:00:00Z")).toEqual(["1"]);
    expect(ids("creationDateTimeUtc le 2024-05-02T10:00:00Z")).toEqual(["1", "2"]);
    expect(ids("creationDateTimeUtc gt 2024-05-02T10:00:00Z")).toEqual(["3"]);
    expect(ids("creationDateTimeUtc eq 2024-05-02T10:00:00Z")).toEqual(["2"]);
    expect(ids("creationDateTimeUtc ne 2024-05-02T10:00:00Z")).toEqual(["1", "3"]);
    expect(ids("CreationDateTimeUtc ge 2024-05-03 and status eq 'InProgress'")).toEqual(["3"]);
  });

  it("builds the expected tree", () => {
    expect(parseFilter("status eq 'Pending' and not type in ('Isolate')")).toEqual({
      kind: "and",
      left: { kind: "compare", field: "status", op: "eq", value: "Pending" },
      right: { kind: "not", operand: { kind: "in", field: "type", values: ["Isolate"] } },
    });
  });

  it.each([
    ["", "empty"],
    ["status eq", "missing value"],
    ["status eq Pending", "unquoted string"],
    ["status eq 'Pending", "unterminated string"],
    ["status eq 'Bogus'", "unknown status"],
    ["computerDnsName eq 'x'", "field not filterable"],
    ["status gt 'Pending'", "ordering on a string field"],
    ["status like 'P%'", "unknown operator"],
    ["(status eq 'Pending'", "unbalanced parenthesis"],
    ["status eq 'Pending')", "trailing token"],
    ["status eq 'Pending' and", "dangling and"],
    ["status in 'Pending'", "in without parentheses"],
    ["creationDateTimeUtc ge '2024-05-01T00:00:00Z'", "quoted date"],
    ["creationDateTimeUtc ge yesterday", "not a date"],
    ["creationDateTimeUtc in (2024-05-01)", "in on a date"],
    ["status eq 'Pending' ; drop", "stray character"],
  ])("rejects %j (%s) with ODataFilterError", (filter) => {
    expect(() => parseFilter(filter)).toThrow(ODataFilterError);
  });

  it("reports where the problem is", () => {
    try {
      parseFilter("status eq 'Pending' or bogus eq 'x'");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ODataFilterError);
      expect((err as ODataFilterError).position).toBe(23);
    }
  });
});
