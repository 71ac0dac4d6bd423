/**
 * A GUID as Defender writes machine action ids. Deliberately not zod's `uuid()`, which
 * insists on RFC 4122 variant bits that real GUIDs need not have.
 */
export const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isGuid(text: string): boolean {
  return GUID_PATTERN.test(text);
}
