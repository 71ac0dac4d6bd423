import { isGuid } from "../shared/contract/guid.js";

/** A line of an ids file that is not a machine action id. */
export interface IdsFileProblem {
  line: number;
  text: string;
}

export interface ParsedIds {
  /** Lower-cased, duplicates collapsed, in first-seen order. */
  ids: string[];
  duplicates: number;
  problems: IdsFileProblem[];
}

const ID_COLUMNS = ["machineactionid", "id"];

/**
 * Reads one id per line, or a CSV whose header names a `machineActionId` or `id` column (any case).
 * Blank lines and `#` comments are skipped; CRLF line ends and a UTF-8 BOM are tolerated.
 */
export function parseIds(text: string): ParsedIds {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const seen = new Set<string>();
  const problems: IdsFileProblem[] = [];
  let duplicates = 0;
  let column: number | undefined;
  let headerSeen = false;

  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const cells = splitCsvLine(line);
    if (!headerSeen) {
      headerSeen = true;
      const found = cells.findIndex((c) => ID_COLUMNS.includes(c.toLowerCase()));
      if (found >= 0) {
        // Prefer machineActionId when a file has both columns.
        const exact = cells.findIndex((c) => c.toLowerCase() === "machineactionid");
        column = exact >= 0 ? exact : found;
        return;
      }
    }
    const cell = (column === undefined ? (cells.length === 1 ? cells[0] : line) : cells[column]) ?? "";
    if (!isGuid(cell)) {
      problems.push({ line: index + 1, text: raw.slice(0, 80) });
      return;
    }
    const id = cell.toLowerCase();
    if (seen.has(id)) duplicates += 1;
    else seen.add(id);
  });
  return { ids: [...seen], duplicates, problems };
}

/** Splits one CSV line (RFC 4180 quoting) and trims each cell. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      cells.push(cell.trim());
      cell = "";
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

/** "line 3 ("foo"), line 9 ("bar")", capped so a broken 100,000-line file gives a readable error. */
export function describeProblems(problems: IdsFileProblem[], max = 20): string {
  const shown = problems.slice(0, max).map((p) => `line ${p.line} (${JSON.stringify(p.text)})`);
  const more = problems.length > max ? ` and ${problems.length - max} more` : "";
  return shown.join(", ") + more;
}
