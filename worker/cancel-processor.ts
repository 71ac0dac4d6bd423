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
import {
  BadRequestError,
  BudgetWaitError,
  ConnectionDroppedError,
  errorMessage,
  ForbiddenError,
  NotFoundError,
  ThrottledError,
  TokenUnavailableError,
  UnauthorizedError,
  UpstreamError,
} from "../shared/core/errors.js";
import type { CallOptions } from "../shared/defender/defender-client.js";
import { backoffMs, notFoundRecheckMs } from "../shared/defender/retry-policy.js";
import type { CancelClaims } from "../shared/redis/cancel-claims.js";
import type { JobState } from "./job-state.js";

/** The Defender calls the rule needs. */
export interface ActionsApi {
  getAction(tenantId: string, id: string, options?: CallOptions): Promise<MachineAction>;
  cancelAction(tenantId: string, id: string, comment: string, options?: CallOptions): Promise<MachineAction>;
}

export interface ProcessorSettings {
  tenantId: string;
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
  state: JobState;
}

export interface ProcessorDeps {
  api: ActionsApi;
  settings: ProcessorSettings;
  /** One cancel in flight per action across all workers; absent in unit tests of the rule alone. */
  claims?: Pick<CancelClaims, "claim">;
  /** Persists the state before the processor goes on (the cancel marker must be in Redis first). */
  saveState(state: JobState): Promise<void>;
  now?: () => number;
  random?: () => number;
  signal?: AbortSignal;
}

/** Why a job goes back to Redis to wait; metrics count each. */
export const DELAY_REASONS = [
  "budget",
  "throttled",
  "token",
  "in_flight",
  "not_found",
  "transient",
  "shutdown",
] as const;
export type DelayReason = (typeof DELAY_REASONS)[number];

/** Either the job's one result, or "run me again in `ms`" (held in Redis, no worker slot). */
export type Decision =
  | { kind: "done"; result: CancelResult }
  | { kind: "delay"; ms: number; reason: DelayReason };

/** Check, skip, cancel: the rule. Publishing the result is the caller's step. */
export async function processCancel(input: ProcessorInput, deps: ProcessorDeps): Promise<Decision> {
  const now = deps.now ?? Date.now;
  const state: JobState = { ...input.state, firstTriedAt: input.state.firstTriedAt ?? now() };
  const attempts = state.failures + 1;

  const parsed = parseCancelJob(input.data);
  if (!parsed.ok) return done(failedResult(input, attempts, { code: "invalid_job", message: parsed.reason }));
  const job = parsed.job;
  const tenantId = job.tenantId ?? deps.settings.tenantId;
  const finish = (outcome: FinishedOutcome, action: MachineAction | null) =>
    done(finishedResult(input, { ...job, tenantId }, attempts, outcome, action));
  if (tenantId !== deps.settings.tenantId) {
    const message = `tenant ${tenantId} is not this worker's tenant (AZURE_TENANT_ID)`;
    return done(failedResult(input, attempts, { code: "unknown_tenant", message }, { ...job, tenantId }));
  }
  const call: CallOptions = { campaign: job.campaignId !== undefined, signal: deps.signal };

  try {
    for (let look = 1; ; look++) {
      const action = await deps.api.getAction(tenantId, job.machineActionId, call);
      if (isTerminal(action.status))
        return finish(ours(action, state) ? "cancelled" : "already_terminal", action);
      const claim = await deps.claims?.claim(
        tenantId,
        job.machineActionId,
        deps.settings.cancelClaimMs ?? 60_000,
      );
      // Another run's cancel for this action is still on the wire: wait for it, then look again.
      if (claim && "heldMs" in claim) return delay(deps, state, claim.heldMs + 250, "in_flight");
      try {
        const cancelled = await sendCancel(job.machineActionId, job.comment, tenantId, state, deps, call);
        if (cancelled.kind === "answered") return finish("cancelled", cancelled.action);
        // Refused: the action may have finished between our check and our cancel; look before blaming the request.
        const again = await deps.api.getAction(tenantId, job.machineActionId, call);
        if (isTerminal(again.status))
          return finish(ours(again, state) ? "cancelled" : "already_terminal", again);
        const code = cancelled.refusal instanceof ForbiddenError ? "forbidden" : "bad_request";
        return done(
          failedResult(input, attempts, upstream(cancelled.refusal, code), { ...job, tenantId }, again),
        );
      } catch (err) {
        // The answer was lost, maybe not the cancel: look at the action before sending another (once per run).
        if (err instanceof ConnectionDroppedError && look === 1) continue;
        throw err;
      } finally {
        if (claim && "release" in claim) await claim.release().catch(() => undefined);
      }
    }
  } catch (err) {
    return decideOnError(err, input, { ...job, tenantId }, state, deps, now());
  }
}

/** A `Cancelled` action is this job's doing while a cancel of ours may have been accepted. */
function ours(action: MachineAction, state: JobState): boolean {
  return action.status === "Cancelled" && state.cancelSentAt !== undefined;
}

/**
 * Sends the cancel with its "cancel sent" mark (state.cancelSentAt) saved first, so that a re-run
 * after a crash mid-POST calls a `Cancelled` action ours. The mark means "a cancel of ours may have
 * been accepted". When Defender answered without acting (any 4xx: 429, 400, 403...) or the request
 * never left (no budget, no token), this POST cannot have cancelled anything and the mark goes back
 * to what it was before it: usually nothing, so an action somebody else cancels meanwhile ends
 * `already_terminal`, not `cancelled`. It goes back, not away: an earlier POST of ours whose answer
 * was lost (dropped, timed out, 5xx) may still be what cancels the action, and then `cancelled` is
 * the truth (the 400 a second cancel gets, once the first one cancelled the action, is that case).
 * A 5xx, a 503 with Retry-After or no answer keeps the mark: Defender may have acted.
 */
async function sendCancel(
  actionId: string,
  comment: string,
  tenantId: string,
  state: JobState,
  deps: ProcessorDeps,
  call: CallOptions,
): Promise<{ kind: "answered"; action: MachineAction } | { kind: "refused"; refusal: UpstreamError }> {
  const before = state.cancelSentAt;
  state.cancelSentAt = (deps.now ?? Date.now)();
  await deps.saveState(state);
  try {
    return { kind: "answered", action: await deps.api.cancelAction(tenantId, actionId, comment, call) };
  } catch (err) {
    const refused =
      err instanceof BadRequestError || (err instanceof ForbiddenError && err.disallowedOperation);
    if (!refused && !notAccepted(err)) throw err;
    state.cancelSentAt = before;
    if (!refused) throw err; // the caller's delay saves the mark as it now stands
    await deps.saveState(state);
    return { kind: "refused", refusal: err };
  }
}

/** True when a cancel surely did nothing: Defender refused it (4xx), or it never left. */
function notAccepted(err: unknown): boolean {
  if (err instanceof BudgetWaitError || err instanceof TokenUnavailableError) return true;
  const status = err instanceof UpstreamError ? err.httpStatus : undefined;
  return status !== undefined && status >= 400 && status < 500;
}

async function decideOnError(
  err: unknown,
  input: ProcessorInput,
  job: CancelJob & { tenantId: string },
  state: JobState,
  deps: ProcessorDeps,
  now: number,
): Promise<Decision> {
  const attempts = state.failures + 1;
  const fail = (code: ErrorCode) => done(failedResult(input, attempts, upstream(err, code), job));
  if (deps.signal?.aborted) return delay(deps, state, 1_000, "shutdown");
  if (err instanceof BudgetWaitError) return delay(deps, state, err.waitMs, "budget");
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

async function delay(deps: ProcessorDeps, state: JobState, ms: number, reason: DelayReason) {
  await deps.saveState(state);
  return { kind: "delay", ms: Math.max(1, Math.round(ms)), reason } as const;
}

function done(result: CancelResult): Decision {
  return { kind: "done", result };
}

function upstream(err: unknown, code: ErrorCode): ResultError {
  const message = errorMessage(err);
  if (!(err instanceof UpstreamError)) return { code, message };
  return { code, message, httpStatus: err.httpStatus, target: err.target };
}
