import type { Check, DoctorReport } from "../jobs/doctor/doctor-report.js";

/** The report as a person reads it: one row per tenant, then what to fix, tenant by tenant. */
export function doctorTable(report: DoctorReport): string {
  const rows = [
    ["TENANT", "TOKEN", "ROLES", "LIST CALL"],
    ...report.tenants.map((t) => [t.name, t.token.summary, t.roles.summary, t.list.summary]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell))
      .join("  ")
      .trimEnd(),
  );
  lines.push("", `Redis ${report.redis.url}: ${report.redis.summary}`);

  const fixes: string[] = [];
  for (const t of report.tenants) {
    const checks: [string, Check][] = [
      ["token", t.token],
      ["roles", t.roles],
      ["list call", t.list],
    ];
    const todo = checks.filter(([, check]) => check.fix);
    if (todo.length === 0) continue;
    fixes.push(`  ${t.name === t.tenantId ? t.name : `${t.name} (${t.tenantId})`}:`);
    for (const [what, check] of todo) fixes.push(`    - ${what}: ${check.fix}`);
    const url = checks.map(([, check]) => check.consentUrl).find(Boolean);
    if (url) fixes.push(`    consent URL: ${url}`);
  }
  if (report.redis.fix) fixes.push(`  Redis: ${report.redis.fix}`);
  if (fixes.length > 0) lines.push("", "To fix:", ...fixes);

  const failing = report.tenants.filter((t) => !t.ok).length;
  const verdict = report.ok
    ? "All well."
    : [
        failing > 0 ? `${failing} of ${report.tenants.length} tenants need attention` : "",
        report.redis.status === "ok" ? "" : "Redis needs attention",
      ]
        .filter(Boolean)
        .join("; ")
        .concat(".");
  lines.push("", verdict);
  return `${lines.join("\n")}\n`;
}
