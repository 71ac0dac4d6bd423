import { describe, expect, it } from "vitest";
import {
  parseSimulatorOptions,
  type RawSimulatorOptions,
  SIMULATOR_DEFAULTS,
} from "../../cli/simulator-options.js";
import { UsageError } from "../../shared/core/errors.js";

const defaults: RawSimulatorOptions = { ...SIMULATOR_DEFAULTS, certHost: [] };
const parse = (raw: Partial<RawSimulatorOptions>) => parseSimulatorOptions({ ...defaults, ...raw }, "/srv");

describe("simulator --tenants", () => {
  it("keeps one unnamed tenant by default, exactly as before", () => {
    const { sim, tenantsFilePath } = parse({});
    expect(sim.tenants).toBeUndefined();
    expect(sim.tenantName).toBeUndefined();
    expect(sim.secondAuthority).toBeUndefined();
    expect(tenantsFilePath).toBeUndefined();
  });

  it("seeds tenant-2..n with GUIDs drawn from the seed, tenant-1 being --tenant", () => {
    const { sim } = parse({ tenants: "4", seed: "7" });
    expect(sim.tenantName).toBe("tenant-1");
    expect(sim.tenantId).toBe(SIMULATOR_DEFAULTS.tenant);
    const names = sim.tenants?.map((t) => t.name);
    expect(names).toEqual(["tenant-2", "tenant-3", "tenant-4"]);
    const ids = sim.tenants?.map((t) => t.tenantId) ?? [];
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(3);
    // The same seed gives the same tenants, so a saved tenants file keeps working; another seed others.
    expect(parse({ tenants: "4", seed: "7" }).sim.tenants).toEqual(sim.tenants);
    expect(parse({ tenants: "4", seed: "8" }).sim.tenants?.[0]?.tenantId).not.toBe(ids[0]);
  });

  it("puts the last tenant on the second authority, and resolves --tenants-file", () => {
    const { sim, tenantsFilePath } = parse({ tenants: "3", secondAuthority: true, tenantsFile: "t.json" });
    expect(sim.secondAuthority).toBe(true);
    expect(sim.tenants?.map((t) => t.secondAuthority ?? false)).toEqual([false, true]);
    expect(tenantsFilePath).toBe("/srv/t.json");
    expect(parse({ tenantsFile: "one.json" }).sim.tenantName).toBe("tenant-1");
  });

  it("refuses a tenant count out of range and a second authority without a second tenant", () => {
    for (const tenants of ["0", "1001", "two", "-1"])
      expect(() => parse({ tenants }), tenants).toThrow(/--tenants .* must be a whole number from 1 to 1000/);
    expect(() => parse({ secondAuthority: true })).toThrow(UsageError);
    expect(() => parse({ secondAuthority: true })).toThrow(/--second-authority .* needs --tenants 2 or more/);
  });
});
