import { DEFAULT_RATE_LIMITS } from "./quota.js";
import { DEFAULT_ROLES, SimTenant } from "./sim-tenant.js";
import type { SimTenantOptions, SimulatorOptions } from "./simulator-options.js";

/** Seeds of the k-th extra tenant sit this far apart, so no two tenants share a random stream. */
const SEED_STRIDE = 1000;

/** The simulator's tenants, found by id (as Entra does, in any case) or by name. */
export class TenantSet {
  private readonly byKey = new Map<string, SimTenant>();

  constructor(readonly all: readonly SimTenant[]) {
    for (const tenant of all) {
      for (const key of [tenant.id, tenant.name]) {
        const taken = this.byKey.get(key.toLowerCase());
        if (taken && taken !== tenant)
          throw new RangeError(`two simulated tenants are called ${JSON.stringify(key)}`);
        this.byKey.set(key.toLowerCase(), tenant);
      }
    }
  }

  /** The first tenant: the one of `tenantId`, and of admin routes that name none. */
  get primary(): SimTenant {
    return this.all[0] as SimTenant;
  }

  get(idOrName: string): SimTenant | undefined {
    return this.byKey.get(idOrName.toLowerCase());
  }

  /** The first tenant from the top-level options, then `options.tenants`, each defaulting to the first's settings. */
  static fromOptions(options: SimulatorOptions): TenantSet {
    const seed = options.seed ?? 1;
    const first: SimTenantOptions = {
      tenantId: options.tenantId,
      name: options.tenantName,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      clientCertPem: options.clientCertPem,
    };
    const tenants = [first, ...(options.tenants ?? [])].map((t, k) => {
      if (t.secondAuthority && !options.secondAuthority)
        throw new RangeError(`tenant ${t.tenantId} is on the second authority, but secondAuthority is off`);
      return new SimTenant({
        tenantId: t.tenantId,
        name: t.name ?? t.tenantId,
        authority: t.secondAuthority ? "second" : "first",
        app: {
          clientId: t.clientId ?? options.clientId,
          clientSecret: t.clientSecret ?? options.clientSecret,
          clientCertPem: t.clientCertPem ?? options.clientCertPem,
          roles: t.roles ?? DEFAULT_ROLES,
        },
        rateLimits: t.rateLimits ?? options.rateLimits ?? DEFAULT_RATE_LIMITS,
        faults: t.faults ?? options.faults,
        actions: t.actions ?? options.actions ?? 0,
        // The first tenant keeps the seeds a one-tenant simulator always had.
        seed: seed + SEED_STRIDE * k,
        notFoundLagMs: options.notFoundLagMs ?? 0,
      });
    });
    return new TenantSet(tenants);
  }
}
