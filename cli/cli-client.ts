import { hostname, userInfo } from "node:os";

/** Where a command's requests come from, for the audit trail: `cli:<user>@<host>`. */
export function cliClient(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // A container may run under a uid without a passwd entry; the host still says where.
  }
  return `cli:${user}@${hostname()}`;
}
