import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";
import type { CancelResult, MachineAction } from "../shared/contract/cancel-result.js";
import type { CallOptions } from "../shared/defender/defender-client.js";
import type { CancelClaims } from "../shared/redis/cancel-claims.js";
import type { RecentSightings } from "../shared/redis/recent-sightings.js";
import type { DelayReason, JobState } from "./job-state.js";

/** The processor's inputs, dependencies and decision: the rule's whole interface with the world. */

/** The Defender calls the rule needs. */
export interface ActionsApi {
  getAction(tenantId: string, id: string, options?: CallOptions): Promise<MachineAction>;
  cancelAction(tenantId: string, id: string, comment: string, options?: CallOptions): Promise<MachineAction>;
}

export interface ProcessorSettings {
  /** How long one cancel may be in flight (the HTTP timeout and a margin): no second one meanwhile. */
  cancelClaimMs?: number;
  maxAttempts: number;
  throttleGiveUpMs: number;
  notFoundGraceMs: number;
}

export interface ProcessorInput {
  jobId: string;
  data: unknown;
  enqueuedAt: number;
  /** The job's BullMQ priority as this run began (0 or absent: none); it decides the budget class. */
  priority?: number;
  state: JobState;
}

export interface ProcessorDeps {
  /** Routes each call to its tenant's client (its token, API host and budget). */
  api: ActionsApi;
  settings: ProcessorSettings;
  /** The tenants served as this run began: a job's tenant is resolved here, names included. */
  tenants: Pick<TenantDirectory<TenantInfo>, "resolve" | "defaultTenant" | "file">;
  /** One cancel in flight per action across all workers; absent in unit tests of the rule alone. */
  claims?: Pick<CancelClaims, "claim">;
  /** Statuses looked at ahead of time for campaign jobs due soon; absent in unit tests of the rule alone. */
  sightings?: Pick<RecentSightings, "recall">;
  /** Persists the state before the processor goes on (the cancel marker must be in Redis first). */
  saveState(state: JobState): Promise<void>;
  now?: () => number;
  random?: () => number;
  signal?: AbortSignal;
}

/** Either the job's one result, or "run me again in `ms`" (held in Redis, no worker slot). */
export type Decision =
  | { kind: "done"; result: CancelResult }
  | { kind: "delay"; ms: number; reason: DelayReason };
