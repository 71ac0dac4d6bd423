/**
 * The WindowsDefenderATP application permissions this product relies on, as Entra ID writes them
 * in a token's `roles` (docs/tenants.md says which to grant). The simulator keeps its own copy
 * (sim/sim-tenant.ts): it stands in for Microsoft and imports nothing of the product.
 */

/** Cancel accepts any one of these (Microsoft's cancel-machine-action page, "any of"). */
export const CANCEL_PERMISSIONS = [
  "Machine.CollectForensics",
  "Machine.Isolate",
  "Machine.RestrictExecution",
  "Machine.Scan",
  "Machine.Offboard",
  "Machine.StopAndQuarantine",
  "Machine.LiveResponse",
] as const;

/** The state checks (get and list) accept either. */
export const READ_PERMISSIONS = ["Machine.Read.All", "Machine.ReadWrite.All"] as const;

export interface PermissionCheck {
  /** The cancel permissions the token carries. */
  cancel: string[];
  /** The read permissions the token carries. */
  read: string[];
  /** What is missing, in words a person can act on; empty when both needs are met. */
  missing: string[];
}

/** Which of the needed permissions `roles` carries, and what is missing. */
export function checkPermissions(roles: readonly string[]): PermissionCheck {
  const has = (wanted: readonly string[]) => wanted.filter((role) => roles.includes(role));
  const cancel = has(CANCEL_PERMISSIONS);
  const read = has(READ_PERMISSIONS);
  const missing: string[] = [];
  if (read.length === 0) missing.push(`${READ_PERMISSIONS.join(" or ")} (state checks)`);
  if (cancel.length === 0) missing.push(`one of ${CANCEL_PERMISSIONS.join(", ")} (cancel)`);
  return { cancel, read, missing };
}
