import type { CancelJob } from "../shared/contract/cancel-job.js";
import type { MachineAction } from "../shared/contract/cancel-result.js";
import {
  BadRequestError,
  BudgetWaitError,
  ForbiddenError,
  TokenUnavailableError,
  UpstreamError,
} from "../shared/core/errors.js";
import type { CallOptions } from "../shared/defender/defender-client.js";
import type { JobState } from "./job-state.js";
import type { ProcessorDeps } from "./processor-types.js";

/** A `Cancelled` action is this job's doing while a cancel of ours may have been accepted. */
export function ours(action: MachineAction, state: JobState): boolean {
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
export async function sendCancel(
  job: CancelJob & { tenantId: string },
  state: JobState,
  deps: Pick<ProcessorDeps, "api" | "saveState" | "now">,
  call: CallOptions,
): Promise<{ kind: "answered"; action: MachineAction } | { kind: "refused"; refusal: UpstreamError }> {
  const before = state.cancelSentAt;
  state.cancelSentAt = (deps.now ?? Date.now)();
  await deps.saveState(state);
  try {
    const action = await deps.api.cancelAction(job.tenantId, job.machineActionId, job.comment, call);
    return { kind: "answered", action };
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
