import { type CancelJob, parseCancelJob } from "../shared/contract/cancel-job.js";
import {
  type CancelResult,
  type ErrorCode,
  type FinishedOutcome,
  failedResult,
  finishedResult,
  isTerminal,
  type MachineAction,
  type ResultError,
} from "../shared/contract/cancel-result.js";
import { isFresh, latestSeen, type SeenStatus, seenSchema } from "../shared/contract/seen-status.js";
import {
  BadRequestError,
  BudgetWaitError,
  ConnectionDroppedError,
  errorMessage,
  ForbiddenError,
  isWaitError,
  NotFoundError,
  ThrottledError,
  TokenUnavailableError,
  UnauthorizedError,
  UpstreamError,
} from "../shared/core/errors.js";
import { backoffMs, notFoundRecheckMs } from "../shared/defender/retry-policy.js";
import { CAMPAIGN_BUDGET_DELAY } from "../shared/redis/queues.js";
import type { CheckOptions } from "./action-checks.js";
import { usesCampaignBudget } from "./budget-class.js";
import type { DelayReason, JobState } from "./job-state.js";
import type { Decision, ProcessorDeps, ProcessorInput } from "./processor-types.js";
import { ours, sendCancel } from "./send-cancel.js";

/** Check, skip, cancel: the rule. Publishing the result is the caller's step. */
export async function processCancel(input: ProcessorInput, deps: ProcessorDeps): Promise<Decision> {
  const now = deps.now ?? Date.now;
  const state: JobState = { ...input.state, firstTriedAt: input.state.firstTriedAt ?? now() };
  const attempts = state.failures + 1;

  const parsed = parseCancelJob(input.data);
  if (!parsed.ok) return done(failedResult(input, attempts, { code: "invalid_job", message: parsed.reason }));
  const job = parsed.job;
  const tenant = job.tenantId === undefined ? deps.tenants.defaultTenant : deps.tenants.resolve(job.tenantId);
  if (!tenant) {
    const error = {
      code: "unknown_tenant",
      message: unknownTenant(job.tenantId, deps.tenants.file),
    } as const;
    return done(failedResult(input, attempts, error, job));
  }
  // A name a foreign producer wrote is resolved here: only the id reaches URLs, keys and the result.
  const tenantId = tenant.tenantId;
  const finish = (outcome: FinishedOutcome, action: MachineAction | null) =>
    done(finishedResult(input, { ...job, tenantId }, attempts, outcome, action));
  const call: CheckOptions = {
    campaign: usesCampaignBudget(job, input.priority),
    signal: deps.signal,
    campaignId: job.campaignId,
  };

  // What the campaign (or this job's last run) saw stands in for the check, unless a cancel of ours may have left.
  const prior = seenSchema.safeParse(state.seen).data;
  let seen = state.cancelSentAt === undefined ? latestSeen(job.seen, prior) : undefined;
  // Stale or none: another job's list call may have looked at this action ahead of time (recent-sightings.ts).
  if (state.cancelSentAt === undefined && job.campaignId !== undefined && !settled(seen, now()))
    seen = latestSeen(
      seen,
      await deps.sightings?.recall(tenantId, job.machineActionId).catch(() => undefined),
    );
  if (seen && isTerminal(seen.status))
    return finish("already_terminal", { id: job.machineActionId, status: seen.status });
  let observed: SeenStatus | undefined;
  try {
    for (let look = 1; ; look++) {
      // A fresh non-terminal sighting goes straight to the cancel: a refusal (400) is the re-check.
      if (!(look === 1 && seen && isFresh(seen, now()))) {
        const at = now();
        const action = await deps.api.getAction(tenantId, job.machineActionId, call);
        if (isTerminal(action.status))
          return finish(ours(action, state) ? "cancelled" : "already_terminal", action);
        observed = { status: action.status, at };
      }
      const claim = await deps.claims?.claim(
        tenantId,
        job.machineActionId,
        deps.settings.cancelClaimMs ?? 60_000,
      );
      // Another run's cancel for this action is still on the wire: wait for it, then look again.
      if (claim && "heldMs" in claim) return delay(deps, state, claim.heldMs + 250, "in_flight");
      try {
        // The claim took the POST's budget in the same script: the POST spends it.
        const admission = claim && "admission" in claim ? claim.admission : undefined;
        const sent = await sendCancel({ ...job, tenantId }, state, deps, { ...call, admission });
        if (sent.kind === "answered") return finish("cancelled", sent.action);
        // Refused: the action may have finished between our check and our cancel; look before blaming the request.
        const again = await deps.api.getAction(tenantId, job.machineActionId, call);
        if (isTerminal(again.status))
          return finish(ours(again, state) ? "cancelled" : "already_terminal", again);
        const code = sent.refusal instanceof ForbiddenError ? "forbidden" : "bad_request";
        return done(failedResult(input, attempts, upstream(sent.refusal, code), { ...job, tenantId }, again));
      } catch (err) {
        // The answer was lost, maybe not the cancel: look at the action before sending another (once per run).
        if (err instanceof ConnectionDroppedError && look === 1) continue;
        throw err;
      } finally {
        if (claim && "release" in claim) await claim.release().catch(() => undefined);
      }
    }
  } catch (err) {
    // A cancel that waits for budget or a 429 pause keeps the status just checked: fresh, it needs no new check.
    const waiting = isWaitError(err) && observed ? { ...state, seen: observed } : state;
    return decideOnError(err, input, { ...job, tenantId }, waiting, deps, now(), call.campaign === true);
  }
}

async function decideOnError(
  err: unknown,
  input: ProcessorInput,
  job: CancelJob & { tenantId: string },
  state: JobState,
  deps: ProcessorDeps,
  now: number,
  campaign: boolean,
): Promise<Decision> {
  const attempts = state.failures + 1;
  const fail = (code: ErrorCode) => done(failedResult(input, attempts, upstream(err, code), job));
  if (deps.signal?.aborted) return delay(deps, state, 1_000, "shutdown");
  // Recorded apart from other waits: an urgent enqueue that promotes the job may end this one at once.
  if (err instanceof BudgetWaitError)
    return delay(deps, state, err.waitMs, "budget", campaign ? CAMPAIGN_BUDGET_DELAY : "budget");
  if (err instanceof ThrottledError) {
    if (now + err.waitMs - (state.firstTriedAt ?? now) > deps.settings.throttleGiveUpMs)
      return fail("throttled");
    return delay(deps, state, err.waitMs, "throttled");
  }
  if (err instanceof NotFoundError) {
    const since = state.notFoundSince ?? now;
    const checks = (state.notFoundChecks ?? 0) + 1;
    const wait = notFoundRecheckMs(since, now, deps.settings.notFoundGraceMs, checks);
    if (wait === undefined) return done(finishedResult(input, job, attempts, "not_found", null));
    return delay(deps, { ...state, notFoundSince: since, notFoundChecks: checks }, wait, "not_found");
  }
  if (err instanceof TokenUnavailableError) {
    // Like a throttle: the job waits for Entra ID without spending attempts, up to THROTTLE_GIVE_UP_MS.
    if (now - (state.firstTriedAt ?? now) > deps.settings.throttleGiveUpMs) return fail("upstream");
    const waits = (state.tokenWaits ?? 0) + 1;
    return delay(
      deps,
      { ...state, tokenWaits: waits },
      Math.min(60_000, backoffMs(waits, deps.random)),
      "token",
    );
  }
  if (err instanceof UnauthorizedError) return fail("unauthorized");
  if (err instanceof ForbiddenError) return fail("forbidden");
  if (err instanceof BadRequestError) return fail("bad_request");
  // Transient (5xx, network, timeout) and anything unexpected: back off, within MAX_ATTEMPTS.
  if (attempts >= deps.settings.maxAttempts) return fail("upstream");
  return delay(deps, { ...state, failures: attempts }, backoffMs(attempts, deps.random), "transient");
}

/** Saves the state with why the job waits (`recorded`, finer than the metrics' `reason`), then asks for the delay. */
async function delay(
  deps: ProcessorDeps,
  state: JobState,
  ms: number,
  reason: DelayReason,
  recorded: JobState["delayedFor"] = reason,
) {
  await deps.saveState({ ...state, delayedFor: recorded });
  return { kind: "delay", ms: Math.max(1, Math.round(ms)), reason } as const;
}

/** Why a job's tenant is none this worker serves, naming where the served ones are set. */
function unknownTenant(named: string | undefined, file: string | undefined): string {
  if (named === undefined) return "the job names no tenant, and MDE_TENANTS_FILE names no defaultTenant";
  return file
    ? `tenant ${named} is not in MDE_TENANTS_FILE ${file}`
    : `tenant ${named} is not this worker's tenant (AZURE_TENANT_ID)`;
}

/** A sighting that needs no look: terminal (final), or non-terminal and fresh. */
function settled(seen: SeenStatus | undefined, now: number): boolean {
  return seen !== undefined && (isTerminal(seen.status) || isFresh(seen, now));
}

function done(result: CancelResult): Decision {
  return { kind: "done", result };
}

function upstream(err: unknown, code: ErrorCode): ResultError {
  const message = errorMessage(err);
  if (!(err instanceof UpstreamError)) return { code, message };
  return { code, message, httpStatus: err.httpStatus, target: err.target };
}
