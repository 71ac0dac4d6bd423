import type { RouteKind } from "./faults.js";

export interface Route {
  kind: RouteKind;
  /** The tenant segment of an Entra path. */
  tenant?: string;
  /** The machine action id of a get or cancel path, URL-decoded but otherwise as sent. */
  id?: string;
}

/** Classifies by path alone; the method is checked later so a wrong one gets 405, not 404. */
export function classifyPath(path: string): Route {
  const openid = /^\/([^/]+)(?:\/v2\.0)?\/\.well-known\/openid-configuration$/.exec(path);
  if (openid) return { kind: "openid", tenant: openid[1] };
  const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
  if (token) return { kind: "token", tenant: token[1] };
  // Defender's routes are case-insensitive (ASP.NET), so /api/MachineActions works too.
  const defender = /^\/api\/machineactions(?:\/([^/]+)(\/cancel)?)?\/?$/i.exec(path);
  if (!defender) return { kind: "other" };
  if (defender[1] === undefined) return { kind: "list" };
  const id = safeDecode(defender[1]);
  return defender[2] ? { kind: "cancel", id } : { kind: "get", id };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
