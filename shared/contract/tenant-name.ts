/**
 * A tenant's name from MDE_TENANTS_FILE: what `--tenant`, a job's or request's `tenantId` and the
 * metrics' `tenant` label may carry instead of the tenant's GUID. Its shape keeps it out of harm's
 * way before it is resolved (no `/`, `:`, spaces or quotes), though a name never reaches a URL or
 * a Redis key unresolved.
 */
export const TENANT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export const TENANT_NAME_RULE = "1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'";
