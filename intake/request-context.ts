import type { ApiKeyRecord } from "../shared/redis/api-key-store.js";
import type { IdempotencyClaim } from "../shared/redis/idempotency-store.js";
import type { HttpAuditEntry } from "./audit-sink.js";

/** What the hooks learn about a request and hand on to the routes, the audit and each other. */
export interface IntakeRequestState {
  /** The verified key; every route behind the auth hook has one. */
  apiKey?: ApiKeyRecord;
  /** What the route acted on, for the audit trail. */
  audited?: Pick<HttpAuditEntry, "tenantId" | "machineActionIds" | "jobId" | "campaignId" | "reason">;
  /** The problem's detail when the request was refused. */
  refusal?: string;
  /** Fingerprint of method, route and body, taken before validation rewrote the body. */
  fingerprint?: string;
  /** The Idempotency-Key claim this request holds until its answer is sent. */
  claim?: Extract<IdempotencyClaim, { kind: "claimed" }>;
  replayed?: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    intake: IntakeRequestState;
  }
}
