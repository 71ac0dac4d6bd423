/**
 * The shape of MDE_TENANTS_FILE (the contract's "Tenants (MSSP)"), checked whole: every field of
 * every entry, unknown fields refused, ids and names unique, `defaultTenant` naming a listed
 * tenant. Settings a tenant leaves out are filled from the deployment's `Config` later
 * (tenants.ts); secrets never sit in the file, only where to find them.
 */
import { z } from "zod";
import { isGuid } from "../contract/guid.js";
import { TENANT_NAME, TENANT_NAME_RULE } from "../contract/tenant-name.js";
import * as kind from "./value-schemas.js";

/** How a tenant names its own secret: the variable's name, never its value. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The fields that carry a tenant's own credential; at most one of them per tenant. */
export const CREDENTIAL_FIELDS = ["clientSecretEnv", "clientSecretFile", "clientCertificatePath"] as const;

const tenantEntry = z
  .strictObject({
    id: kind.guid,
    name: z.string().regex(TENANT_NAME, `must be ${TENANT_NAME_RULE}`),
    clientId: kind.guid.optional(),
    clientSecretEnv: z
      .string()
      .regex(ENV_NAME, "must be the NAME of an environment variable holding the secret, not the secret")
      .optional(),
    clientSecretFile: kind.nonEmpty.optional(),
    clientCertificatePath: kind.nonEmpty.optional(),
    authorityHost: kind.httpsUrl(false).optional(),
    apiBaseUrl: kind.httpsUrl(true).optional(),
    tokenScope: kind.nonEmpty.optional(),
    rateLimits: kind.rateLimits.optional(),
    campaignBudgetShare: z
      .number()
      .gt(0, "must be a number in (0, 1]")
      .max(1, "must be a number in (0, 1]")
      .optional(),
  })
  .superRefine((entry, ctx) => {
    const own = CREDENTIAL_FIELDS.filter((field) => entry[field] !== undefined);
    if (own.length > 1)
      ctx.addIssue({ code: "custom", message: `sets ${own.join(" and ")}; give at most one credential` });
    // A name shaped like another tenant's id would make `--tenant <guid>` ambiguous.
    if (isGuid(entry.name) && entry.name.toLowerCase() !== entry.id)
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: "must not be a GUID other than the tenant's id",
      });
  });

export type TenantEntry = z.output<typeof tenantEntry>;

export const tenantsFileSchema = z
  .strictObject({
    defaultTenant: z.string().min(1, "must not be empty").optional(),
    tenants: z.array(tenantEntry).min(1, "must list at least one tenant"),
  })
  .superRefine((file, ctx) => {
    // Names are unique whatever their case, since `--tenant` and job data match them that way.
    const seen = { id: new Map<string, number>(), name: new Map<string, number>() };
    file.tenants.forEach((entry, index) => {
      for (const field of ["id", "name"] as const) {
        const key = entry[field].toLowerCase();
        const first = seen[field].get(key);
        if (first === undefined) seen[field].set(key, index);
        else
          ctx.addIssue({
            code: "custom",
            path: ["tenants", index, field],
            message: `repeats the ${field} of tenants[${first}]`,
          });
      }
    });
    const wanted = file.defaultTenant?.toLowerCase();
    if (wanted !== undefined && !seen.id.has(wanted) && !seen.name.has(wanted))
      ctx.addIssue({
        code: "custom",
        path: ["defaultTenant"],
        message: "names no tenant of the file; give one of its ids or names",
      });
  });

export type TenantsFile = z.output<typeof tenantsFileSchema>;
