import { randomUUID } from "node:crypto";
import { assertionProblem } from "./client-assertion.js";
import type { TokenRegistry } from "./token-registry.js";

/** A JSON answer, shaped before it is written so handlers stay free of node:http. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface EntraConfig {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** The public certificate registered on the app, for private_key_jwt client assertions. */
  clientCertPem?: string | Buffer;
  /** The app roles (application permissions) consented in this tenant; tokens carry them. */
  roles: readonly string[];
  tokenTtlSec: number;
}

/** msal-common requires all four of issuer, authorization_endpoint, token_endpoint and jwks_uri. */
export function openIdConfiguration(
  base: string,
  tenant: string,
  cloud = "microsoftonline.com",
): Record<string, unknown> {
  return {
    issuer: `${base}/${tenant}/v2.0`,
    authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
    jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    id_token_signing_alg_values_supported: ["RS256"],
    tenant_region_scope: "EU",
    cloud_instance_name: cloud,
  };
}

/** Entra's error body: msal reads `error` as errorCode and the first of `error_codes` as errorNo. */
export function entraError(
  status: number,
  error: string,
  aadsts: number,
  text: string,
  correlationId = "",
): Reply {
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  const traceId = randomUUID();
  const correlation = correlationId || randomUUID();
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${aadsts}: ${text} Trace ID: ${traceId} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
      error_codes: [aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlation,
    },
  };
}

export const unknownTenant = (tenant: string) =>
  entraError(
    400,
    "invalid_request",
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID.`,
  );

/** The client-credentials grant, with a client secret or a certificate-signed client assertion. */
export function tokenReply(
  form: Record<string, string>,
  tokenEndpoint: string,
  config: EntraConfig,
  registry: TokenRegistry,
): Reply {
  const correlation = form["client-request-id"] ?? "";
  const fail = (status: number, error: string, code: number, text: string) =>
    entraError(status, error, code, text, correlation);
  if (form.grant_type !== "client_credentials") {
    return fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
  }
  if (form.client_id !== config.clientId) {
    return fail(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${form.client_id}' was not found.`,
    );
  }
  if (!form.scope) return fail(400, "invalid_request", 900144, "The request body must contain 'scope'.");
  if (!form.scope.endsWith("/.default")) {
    return fail(400, "invalid_scope", 1002012, `The provided value for scope ${form.scope} is not valid.`);
  }
  if (form.client_assertion !== undefined) {
    const why = assertionProblem(form, config, tokenEndpoint);
    if (why)
      return fail(401, "invalid_client", 700027, `Client assertion failed signature validation: ${why}.`);
  } else if (config.clientSecret === undefined || form.client_secret !== config.clientSecret) {
    return fail(
      401,
      "invalid_client",
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${config.clientId}'.`,
    );
  }
  // The audience is the resource the scope names, as Entra sets it.
  const audience = form.scope.slice(0, -"/.default".length);
  const { tenantId: tenant, clientId, roles } = config;
  const token = registry.issue({ tenant, clientId, roles, audience }, config.tokenTtlSec);
  return {
    status: 200,
    body: {
      token_type: "Bearer",
      expires_in: config.tokenTtlSec,
      ext_expires_in: config.tokenTtlSec,
      access_token: token,
    },
  };
}
