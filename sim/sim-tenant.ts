import { X509Certificate } from "node:crypto";
import type { RateWindow } from "../shared/config/durations.js";
import { ActionStore } from "./action-store.js";
import { FaultPlan, type RandomFaults } from "./faults.js";
import { Quota } from "./quota.js";
import { seededRng } from "./rng.js";

/**
 * The application permissions that allow cancelling a machine action: any one of them will do.
 * The product's copy is shared/defender/permissions.ts; the simulator keeps its own because it
 * imports nothing of the product (test/unit/doctor-advice.test.ts checks that the two agree).
 */
export const CANCEL_ROLES = [
  "Machine.CollectForensics",
  "Machine.Isolate",
  "Machine.RestrictExecution",
  "Machine.Scan",
  "Machine.Offboard",
  "Machine.StopAndQuarantine",
  "Machine.LiveResponse",
] as const;

/** Either allows get and list. */
export const READ_ROLES = ["Machine.Read.All", "Machine.ReadWrite.All"] as const;

/** What a fully consented app carries in its tokens unless a tenant says otherwise. */
export const DEFAULT_ROLES: readonly string[] = ["Machine.Read.All", ...CANCEL_ROLES];

/** Which of the simulator's hosts a tenant's Entra ID and Defender API live on. */
export type AuthorityName = "first" | "second";

/** The app registration Entra ID knows in one tenant; `update` changes it at run time. */
export interface AppRegistration {
  clientId: string;
  /** The secret Entra expects; a client sending another gets AADSTS7000215. */
  clientSecret?: string;
  /** The certificate registered for private_key_jwt client assertions. */
  clientCertPem?: string | Buffer;
  /** Application permissions consented in this tenant, carried in the tokens' `roles`. */
  roles: readonly string[];
}

export interface SimTenantInit {
  tenantId: string;
  name: string;
  authority: AuthorityName;
  app: AppRegistration;
  rateLimits: readonly RateWindow[];
  faults?: RandomFaults;
  /** How many actions to generate; with `seed`, the same ones on every run. */
  actions: number;
  seed: number;
  notFoundLagMs: number;
}

/**
 * One simulated customer tenant: its app registration, its own machine actions, its own budget
 * (Defender counts "per application and tenant") and its own random faults.
 */
export class SimTenant {
  readonly id: string;
  readonly name: string;
  readonly authority: AuthorityName;
  readonly store: ActionStore;
  readonly quota: Quota;
  /** Random faults only; scripted ones are queued on the simulator, optionally for one tenant. */
  readonly faults: FaultPlan;
  private registration: AppRegistration;

  constructor(private readonly init: SimTenantInit) {
    checkCertificate(init.app.clientCertPem);
    this.id = init.tenantId;
    this.name = init.name;
    this.authority = init.authority;
    this.registration = { ...init.app };
    this.store = new ActionStore({ notFoundLagMs: init.notFoundLagMs });
    if (init.actions) this.store.seed(init.actions, seededRng(init.seed));
    this.quota = new Quota(init.rateLimits);
    this.faults = new FaultPlan(init.faults, seededRng(init.seed + 1));
  }

  get app(): Readonly<AppRegistration> {
    return this.registration;
  }

  /** Rotates the expected secret, registers another app, or grants or withdraws roles. */
  update(change: Partial<AppRegistration>): void {
    checkCertificate(change.clientCertPem);
    this.registration = { ...this.registration, ...change };
  }

  startDrift(drift: { intervalMs: number; stepProbability?: number }): void {
    this.store.startDrift({ ...drift, rng: seededRng(this.init.seed + 2) });
  }

  /** The tenant as `/_sim/tenants` shows it: never its secret. */
  describe(): Record<string, unknown> {
    const { clientId, roles } = this.registration;
    return {
      id: this.id,
      name: this.name,
      authority: this.authority,
      clientId,
      roles,
      actions: this.store.size,
    };
  }
}

/** A bad PEM should fail at start, not as a 500 on the first token call. */
function checkCertificate(pem: string | Buffer | undefined): void {
  if (pem !== undefined) void new X509Certificate(pem).fingerprint256;
}
