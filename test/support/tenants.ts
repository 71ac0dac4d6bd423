import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RateWindow } from "../../shared/config/durations.js";
import type { Simulator, SimulatorOptions } from "../../sim/server.js";
import { type Harness, startHarness } from "./harness.js";

/** Three customer tenants of one MSSP, as the simulator serves them. */
export const HEALTHY = "0b9a5c1e-4a52-4c1d-9a57-2f1f4a3e8d10";
export const BAD_SECRET = "5f0d8c2b-7e41-4b6a-8c3d-9e2a1b4c6d7f";
export const SOVEREIGN = "9d3e7f10-2c4b-4a8e-9f61-0a1b2c3d4e5f";

/** Small budgets of different sizes, so a tenant spending another's would show. */
export const BUDGETS: Record<"healthy" | "sovereign", RateWindow[]> = {
  healthy: [{ limit: 3, windowMs: 2_000 }],
  sovereign: [{ limit: 2, windowMs: 2_000 }],
};

/**
 * The simulator's side: `healthy` on the first authority; `bad-secret`, whose registration
 * expects another secret than the deployment's (AADSTS7000215 there only); `sovereign` on the
 * second authority host, as a GCC High customer. Each counts its own budget at arrival.
 */
export const threeTenantSim: Partial<SimulatorOptions> = {
  tenantId: HEALTHY,
  tenantName: "healthy",
  rateLimits: BUDGETS.healthy,
  secondAuthority: true,
  tenants: [
    { tenantId: BAD_SECRET, name: "bad-secret", clientSecret: "the-secret-entra-expects" },
    { tenantId: SOVEREIGN, name: "sovereign", secondAuthority: true, rateLimits: BUDGETS.sovereign },
  ],
};

type Entry = Record<string, unknown>;

/** The deployment's side of those tenants, as MDE_TENANTS_FILE entries. */
export function tenantEntries(sim: Simulator): Record<"healthy" | "badSecret" | "sovereign", Entry> {
  const second = sim.secondAuthorityHost as string;
  return {
    healthy: { id: HEALTHY, name: "healthy", rateLimits: "3/2s" },
    badSecret: { id: BAD_SECRET, name: "bad-secret" },
    sovereign: {
      id: SOVEREIGN,
      name: "sovereign",
      authorityHost: second,
      apiBaseUrl: second,
      rateLimits: "2/2s",
    },
  };
}

/**
 * A harness on the three-tenant simulator whose MDE_TENANTS_FILE is `file`, for the test to write
 * (before it starts a worker) and rewrite; `healthy` is AZURE_TENANT_ID.
 */
export async function startTenantsHarness(env: Record<string, string> = {}) {
  const file = tenantsFilePath();
  const harness: Harness = await startHarness({
    sim: threeTenantSim,
    env: { MDE_TENANTS_FILE: file, AZURE_TENANT_ID: HEALTHY, ...env },
  });
  return { harness, file, entries: tenantEntries(harness.sim) };
}

/** A path in a fresh folder for a tenants file the test writes (and rewrites, for a reload). */
export function tenantsFilePath(): string {
  return join(mkdtempSync(join(tmpdir(), "mde-tenants-")), "tenants.json");
}

export function writeTenantsFile(path: string, tenants: Entry[], defaultTenant?: string): void {
  writeFileSync(path, JSON.stringify({ ...(defaultTenant && { defaultTenant }), tenants }, null, 2));
}

/**
 * The most calls any window of `windowMs` saw, counted at arrival as Microsoft counts them
 * (recorded requests, answered or not).
 */
export function busiestWindow(arrivals: readonly number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
