import { formatDuration } from "../../shared/config/durations.js";
import {
  BudgetWaitError,
  errorMessage,
  ForbiddenError,
  ThrottledError,
  TransientError,
  UnauthorizedError,
  UpstreamError,
} from "../../shared/core/errors.js";
import type { DefenderClient } from "../../shared/defender/defender-client.js";
import type { ListCheck } from "./doctor-report.js";
import type { WaitingBudget } from "./waiting-budget.js";

/** One `GET /api/machineactions?$top=1`, its budget taken from the shared limiter like any call. */
export async function checkList(
  client: DefenderClient,
  budget: WaitingBudget,
  tenantId: string,
  consentUrl: string,
): Promise<ListCheck> {
  try {
    await client.listActions(tenantId, { top: 1 });
    return { status: "ok", summary: "ok (200)", httpStatus: 200 };
  } catch (err) {
    if (err instanceof BudgetWaitError) {
      const reason = budget.refusal?.reason ?? "budget";
      const when = formatDuration(err.waitMs);
      return {
        status: "failed",
        summary: reason === "paused" ? "paused by a 429" : "budget exhausted",
        fix:
          reason === "paused"
            ? `Defender answered 429 to this tenant's list calls; every caller pauses for another ${when}, so no call was made: run doctor again then`
            : `this tenant's list budget is spent for another ${when} (workers, campaigns with --filter), so no call was made: run doctor again then, or see mde-cancel status`,
        budget: reason,
        budgetFreeInMs: err.waitMs,
      };
    }
    const httpStatus = err instanceof UpstreamError ? err.httpStatus : undefined;
    return {
      status: "failed",
      summary: httpStatus ? `${httpStatus}${codeOf(err)}` : "no answer",
      fix: `${errorMessage(err)}: ${listFix(err)}`,
      consentUrl:
        err instanceof ForbiddenError && err.upstreamCode !== "DisabledFeature" ? consentUrl : undefined,
      httpStatus,
    };
  }
}

function codeOf(err: unknown): string {
  const code = err instanceof UpstreamError ? err.upstreamCode : undefined;
  return code ? ` ${code}` : "";
}

function listFix(err: unknown): string {
  if (err instanceof ForbiddenError)
    return err.upstreamCode === "DisabledFeature"
      ? "Defender for Endpoint is not enabled in this tenant; onboard it, or check apiBaseUrl"
      : "grant Machine.Read.All to the app on WindowsDefenderATP, then an administrator of the tenant grants admin consent at the consent URL";
  if (err instanceof UnauthorizedError)
    return "Defender refused the token: apiBaseUrl and tokenScope must belong to the tenant's cloud (docs/tenants.md)";
  if (err instanceof ThrottledError)
    return "other clients of this app share the tenant's quota; every worker now pauses for Retry-After";
  if (err instanceof TransientError)
    return "check that apiBaseUrl is reachable from here (proxy, firewall, NODE_EXTRA_CA_CERTS) and run doctor again";
  return "check apiBaseUrl: it must be the Defender API root of the tenant's cloud";
}
