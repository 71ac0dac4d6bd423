/**
 * The value of a series in a Prometheus text exposition, e.g. `mde_cancel_jobs_total{outcome="cancelled"}`:
 * the sum over every series of that metric whose labels include the given ones (so a query without
 * `tenant` counts all tenants); undefined when none matches.
 */
export function sample(text: string, series: string): number | undefined {
  const wanted = parse(series);
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.startsWith(wanted.name)) continue;
    const space = line.lastIndexOf(" ");
    const found = parse(line.slice(0, space));
    if (found.name !== wanted.name) continue;
    if (Object.entries(wanted.labels).some(([k, v]) => found.labels[k] !== v)) continue;
    sum = (sum ?? 0) + Number(line.slice(space + 1));
  }
  return sum;
}

function parse(series: string): { name: string; labels: Record<string, string> } {
  const brace = series.indexOf("{");
  if (brace < 0) return { name: series, labels: {} };
  const labels: Record<string, string> = {};
  for (const [, key, value] of series.slice(brace).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
    labels[key as string] = value as string;
  return { name: series.slice(0, brace), labels };
}
