import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WorkerMetrics } from "../../worker/metrics.js";

/** The docs and the Grafana dashboard name metrics by hand; this keeps them in step with the code. */

const root = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

const exported = async () => {
  const metrics = new WorkerMetrics({
    tenants: () => [
      { tenantId: "t", label: "t", limiter: { status: async () => ({ pausedForMs: 0, windows: [] }) } },
    ],
    label: () => "t",
    queue: { getJobCounts: async () => ({}), getWaiting: async () => [] },
    tokens: { acquired: 0 },
    ping: async () => "PONG",
  });
  const all = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
  return all.filter((name) => name.startsWith("mde_"));
};

interface Panel {
  type: string;
  targets?: { expr: string }[];
}

describe("operations docs and dashboard", () => {
  it("document every mde_ metric the worker exports, in docs/operations.md and the README", async () => {
    const names = await exported();
    expect(names.length).toBeGreaterThanOrEqual(14);
    const operations = read("docs/operations.md");
    const readme = read("README.md");
    for (const name of names) {
      expect(operations, name).toContain(`\`${name}`);
      expect(readme, name).toContain(`\`${name}`);
    }
  });

  it("is a Grafana dashboard whose every panel queries metrics the worker exports", async () => {
    const names = new Set(await exported());
    const dashboard = JSON.parse(read("docs/grafana-dashboard.json")) as { title: string; panels: Panel[] };
    expect(dashboard.title).toBe("mde-cancel");
    const panels = dashboard.panels.filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThan(10);
    const queried = new Set<string>();
    for (const panel of panels) {
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        for (const [name] of target.expr.matchAll(/\bmde_\w+/g))
          queried.add(name.replace(/_(bucket|sum|count)$/, ""));
    }
    for (const name of queried) expect(names, name).toContain(name);
    for (const required of ["mde_cancel_jobs_total", "mde_api_throttled_total", "mde_cancel_queue_jobs"])
      expect(queried).toContain(required);
  });

  it("lets a dashboard user pick tenants: every series with a tenant label is filtered by $tenant", () => {
    const dashboard = JSON.parse(read("docs/grafana-dashboard.json")) as {
      panels: Panel[];
      templating: { list: { name: string; query: { query: string } }[] };
    };
    const variable = dashboard.templating.list.find((v) => v.name === "tenant");
    expect(variable?.query.query).toMatch(/label_values\(mde_cancel_jobs_total\{[^}]*\}, tenant\)/);
    const tenanted =
      /\b(mde_cancel_jobs_total|mde_api_requests_total|mde_api_throttled_total|mde_rate_limit_budget_left|mde_rate_limit_paused_seconds)\{([^}]*)\}/g;
    let filtered = 0;
    for (const panel of dashboard.panels)
      for (const target of panel.targets ?? [])
        for (const [, name, selector] of target.expr.matchAll(tenanted)) {
          expect(selector, `${panel.type} ${name}`).toContain('tenant=~"$tenant"');
          filtered += 1;
        }
    expect(filtered).toBeGreaterThanOrEqual(5);
  });
});
