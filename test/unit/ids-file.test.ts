import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeProblems, parseIds } from "../../jobs/ids-file.js";

const A = "5382f7ea-7557-4ab7-9782-d50480024a4e";
const B = "c141bb71-8125-4234-a184-0123456789ab";

describe("parseIds", () => {
  it("reads plain lines with comments, blanks, CRLF, a BOM and upper case", () => {
    const parsed = parseIds(`\uFEFF# campaign of 29 Nov\r\n${A.toUpperCase()}\r\n\r\n  ${B}  \r\n# end\r\n`);
    expect(parsed).toEqual({ ids: [A, B], duplicates: 0, problems: [] });
  });

  it("collapses duplicates in first-seen order", () => {
    expect(parseIds(`${B}\n${A}\n${B.toUpperCase()}\n`)).toEqual({
      ids: [B, A],
      duplicates: 1,
      problems: [],
    });
  });

  it("reads the machineActionId or id column of a CSV, header in any case, quoted cells", () => {
    const csv = `computer,MachineActionID,status\r\n"pc-1, floor 2",${A},Pending\r\npc-2,"${B}",Pending\r\n`;
    expect(parseIds(csv).ids).toEqual([A, B]);
    expect(parseIds(`ID;x\n`).problems).toHaveLength(1);
    expect(parseIds(`Id,comment\n${A},"say ""hi"""\n`).ids).toEqual([A]);
  });

  it("prefers machineActionId when a CSV has both columns", () => {
    expect(parseIds(`id,machineActionId\n${B},${A}\n`).ids).toEqual([A]);
  });

  it("names every bad line by its number", () => {
    const parsed = parseIds(`${A}\nnot-a-guid\n\n../machines/x/offboard\n${B}\n`);
    expect(parsed.problems).toEqual([
      { line: 2, text: "not-a-guid" },
      { line: 4, text: "../machines/x/offboard" },
    ]);
    expect(describeProblems(parsed.problems)).toBe(
      'line 2 ("not-a-guid"), line 4 ("../machines/x/offboard")',
    );
  });

  it("caps the problem list of a hopeless file", () => {
    const problems = Array.from({ length: 30 }, (_, i) => ({ line: i + 1, text: "x" }));
    expect(describeProblems(problems)).toMatch(/line 20 \("x"\) and 10 more$/);
  });

  it("never loses, invents or reorders an id, whatever the noise around it", () => {
    const guid = fc.uuid().map((u) => u);
    const noise = fc.constantFrom("", "   ", "# note", "#", "\t");
    const line = fc.oneof(
      guid.map((g) => ({ id: g, text: g })),
      guid.map((g) => ({ id: g, text: g.toUpperCase() })),
      noise.map((n) => ({ id: undefined, text: n })),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.boolean(), fc.boolean(), (lines, crlf, bom) => {
        const text = (bom ? "\uFEFF" : "") + lines.map((l) => l.text).join(crlf ? "\r\n" : "\n");
        const expected = [...new Set(lines.flatMap((l) => (l.id ? [l.id.toLowerCase()] : [])))];
        const parsed = parseIds(text);
        expect(parsed.problems).toEqual([]);
        expect(parsed.ids).toEqual(expected);
        expect(parsed.duplicates).toBe(lines.filter((l) => l.id).length - expected.length);
      }),
    );
  });

  it("reports any line that is not a GUID", () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 40 })
          .filter(
            (s) =>
              !/[\r\n]/.test(s) &&
              s.trim() !== "" &&
              !s.trim().startsWith("#") &&
              !/^[0-9a-f-]{36}$/i.test(s.trim()),
          ),
        (junk) => {
          const parsed = parseIds(`${A}\n${junk}\n`);
          expect(parsed.problems.map((p) => p.line)).toEqual([2]);
        },
      ),
    );
  });
});
