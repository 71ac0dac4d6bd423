import type { Queue } from "bullmq";
import { resolveTenant } from "../shared/config/resolve-tenant.js";
import type { TenantDirectory, TenantInfo } from "../shared/config/tenant-directory.js";
import { type CancelJob, type CancelRequest, cancelJobSchema } from "../shared/contract/cancel-job.js";
import { MAX_PRIORITY, validPriority } from "../shared/contract/limits.js";
import { UsageError } from "../shared/core/errors.js";
import type { AuditSink } from "../shared/redis/audit-log.js";
import { CANCEL_JOB_NAME, deduplicationId, newJobId } from "../shared/redis/queues.js";
import { promoteJob } from "./promote-job.js";

export interface EnqueueOptions {
  /** The tenant of requests that name none (AZURE_TENANT_ID). */
  defaultTenantId?: string;
  /**
   * The tenants served (the Producer passes its own): each request's tenant, an id or a name, is
   * stored as its id, and one it does not list refuses the call. Without it, `tenantId` is stored
   * as given (a worker resolves a name, and fails an unknown tenant `unknown_tenant`).
   */
  tenants?: TenantDirectory<TenantInfo>;
  /** BullMQ priority, 1 (highest of the prioritized) .. MAX_PRIORITY; none = taken before any prioritized job. */
  priority?: number;
  /** Where each request is recorded for the audit trail; none by default. */
  audit?: AuditSink;
}

export interface Enqueued {
  machineActionId: string;
  tenantId: string;
  jobId: string;
  /** false: a job for this action was already waiting, delayed or active; that job is reported. */
  added: boolean;
  /**
   * true: that job carried a priority (a campaign's, say) and this enqueue, having none, made it
   * urgent: priority removed, the whole budget, and no leftover wait for campaign budget. An enqueue
   * with a priority never promotes.
   */
  promoted: boolean;
}

/**
 * Validates every request first (all or nothing: one bad request enqueues none), then adds one
 * job per action with a fresh id. Deduplication by tenant and action keeps one job per action
 * while it is in flight; once it finished, the action can be enqueued again. Without a priority,
 * an action already held by a prioritized job that waits or is delayed promotes that job.
 */
export async function enqueueCancels(
  queue: Queue,
  requests: readonly CancelRequest[],
  options: EnqueueOptions,
): Promise<Enqueued[]> {
  const jobs = validateRequests(requests, options);
  if (options.priority !== undefined && !validPriority(options.priority))
    throw new UsageError(`priority ${options.priority} must be a whole number from 1 to ${MAX_PRIORITY}.`);
  const results: Enqueued[] = [];
  for (const job of jobs) {
    const jobId = newJobId();
    const added = await queue.add(CANCEL_JOB_NAME, job, {
      jobId,
      deduplication: { id: deduplicationId(job.tenantId, job.machineActionId) },
      priority: options.priority,
    });
    const existing = added.id !== jobId;
    const urgent = options.priority === undefined;
    const enqueued = {
      machineActionId: job.machineActionId,
      tenantId: job.tenantId,
      jobId: String(added.id),
      added: !existing,
      promoted: existing && urgent && (await promoteJob(queue, String(added.id))),
    };
    results.push(enqueued);
    await options.audit?.append({
      kind: "request",
      requestedBy: job.requestedBy,
      tenantId: job.tenantId,
      machineActionIds: [job.machineActionId],
      jobId: enqueued.jobId,
      status: enqueued.added ? "added" : enqueued.promoted ? "promoted" : "already_queued",
    });
  }
  return results;
}

/** Every request checked against the contract; the error names each bad one by its position. */
export function validateRequests(
  requests: readonly CancelRequest[],
  options: Pick<EnqueueOptions, "defaultTenantId" | "tenants">,
): (CancelJob & { tenantId: string })[] {
  const problems: string[] = [];
  const jobs: (CancelJob & { tenantId: string })[] = [];
  requests.forEach((request, i) => {
    const parsed = cancelJobSchema.safeParse(request);
    const label = `request ${i + 1} (${describe(request?.machineActionId)})`;
    if (!parsed.success) {
      problems.push(`${label}: ${parsed.error.issues.map((issue) => issue.message).join(", ")}`);
      return;
    }
    const named = parsed.data.tenantId ?? options.defaultTenantId;
    const choice = options.tenants
      ? resolveTenant(options.tenants, named)
      : named
        ? { tenantId: named }
        : { problem: "no tenant; pass a tenantId or set AZURE_TENANT_ID" };
    if (choice.problem !== undefined) {
      problems.push(`${label}: ${choice.problem}`);
      return;
    }
    jobs.push({ ...parsed.data, tenantId: choice.tenantId });
  });
  if (problems.length > 0) throw new UsageError(`Nothing was enqueued: ${problems.join("; ")}.`);
  return jobs;
}

function describe(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined ? "no machineActionId" : JSON.stringify(text.slice(0, 60));
}
