import { readFileSync, writeFileSync } from "node:fs";

const FINDINGS = "## What limits the numbers";

/**
 * Puts one section into an existing docs/benchmarks.md: in place of the section under the same
 * heading, else before the findings. How a section run alone (BENCH_ONLY) or after the main
 * report lands beside the others.
 */
export function putSection(path: string, heading: string, section: string): void {
  const md = readFileSync(path, "utf8");
  const start = md.indexOf(heading);
  if (start < 0) {
    writeFileSync(path, md.replace(FINDINGS, `${section}\n${FINDINGS}`));
    return;
  }
  const next = md.indexOf("\n## ", start + heading.length);
  const end = next < 0 ? md.length : next + 1;
  writeFileSync(path, `${md.slice(0, start)}${section}\n${md.slice(end)}`);
}
