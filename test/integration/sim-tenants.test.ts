/**
 * The simulator serving many tenants, driven by the real @azure/msal-node: one
 * ConfidentialClientApplication per tenant and authority, as the worker keeps them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ClientAuthError, ConfidentialClientApplication, ServerError } from "@azure/msal-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureServerCert } from "../../sim/certs.js";
import { type Simulator, startSimulator } from "../../sim/server.js";
import { CANCEL_ROLES } from "../../sim/sim-tenant.js";

const HEALTHY = "0b9a5c1e-4a52-4c1d-9a57-2f1f4a3e8d10";
const BAD_SECRET = "5f0d8c2b-7e41-4b6a-8c3d-9e2a1b4c6d7f";
const SOVEREIGN = "9d3e7f10-2c4b-4a8e-9f61-0a1b2c3d4e5f";
const NO_ROLES = "c4d5e6f7-0819-4a2b-8c3d-4e5f60718293";
const OTHER_APP = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b";
const CLIENT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const SECRET = "s3cret-value";
const SCOPE = "https://api.securitycenter.microsoft.com/.default";

const certDir = process.env.MDE_TEST_CERT_DIR ?? join(process.cwd(), ".cache", "test-certs");
const serverPair = ensureServerCert(certDir);
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    tls: { key: readFileSync(serverPair.keyPath), cert: readFileSync(serverPair.certPath) },
    tenantId: HEALTHY,
    tenantName: "healthy",
    clientId: CLIENT,
    clientSecret: SECRET,
    actions: 20,
    rateLimits: [{ limit: 3, windowMs: 60_000 }],
    secondAuthority: true,
    tenants: [
      { tenantId: BAD_SECRET, name: "bad-secret", clientSecret: "the-secret-entra-expects" },
      {
        tenantId: SOVEREIGN,
        name: "sovereign",
        secondAuthority: true,
        rateLimits: [{ limit: 5, windowMs: 60_000 }],
      },
      { tenantId: NO_ROLES, name: "no-roles", roles: [] },
      { tenantId: OTHER_APP, name: "other-app", clientId: OTHER_APP },
    ],
  });
});
afterAll(async () => {
  await sim?.close();
});

/** msal configured as the worker configures it: the tenant's own authority, the host trusted by name. */
function app(authorityHost: string, tenant: string, extra: { authorityMetadata?: string } = {}) {
  const auth = {
    clientId: CLIENT,
    clientSecret: SECRET,
    authority: `${authorityHost}/${tenant}`,
    knownAuthorities: [new URL(authorityHost).host],
    ...extra,
  };
  return new ConfidentialClientApplication({ auth });
}
const token = async (authorityHost: string, tenant: string) =>
  (await app(authorityHost, tenant).acquireTokenByClientCredential({ scopes: [SCOPE] }))?.accessToken ?? "";
const part = (jwt: string, index: number) =>
  JSON.parse(Buffer.from(jwt.split(".")[index] ?? "", "base64url").toString()) as Record<string, unknown>;
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected msal to be refused");
}
async function api(base: string, path: string, jwt: string) {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${jwt}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("a simulator of many tenants", () => {
  it("issues each tenant a JWT carrying its tid, the app's roles, audience, app id and expiry", async () => {
    const jwt = await token(sim.authorityHost, HEALTHY);
    expect(jwt.split(".")).toHaveLength(3);
    expect(part(jwt, 0)).toMatchObject({ typ: "JWT", alg: "HS256" });
    const claims = part(jwt, 1);
    expect(claims).toMatchObject({
      tid: HEALTHY,
      appid: CLIENT,
      aud: "https://api.securitycenter.microsoft.com",
      roles: ["Machine.Read.All", ...CANCEL_ROLES],
    });
    // The seven the contract lists, spelled as Entra spells them (CollectForensics with its s).
    expect(new Set(CANCEL_ROLES).size).toBe(7);
    expect(CANCEL_ROLES).toContain("Machine.CollectForensics");
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(part(await token(sim.authorityHost, NO_ROLES), 1)).toMatchObject({ tid: NO_ROLES, roles: [] });
  });

  it("refuses a wrong secret with AADSTS7000215 in that tenant only", async () => {
    const err = await refusal(
      app(sim.authorityHost, BAD_SECRET).acquireTokenByClientCredential({ scopes: [SCOPE] }),
    );
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).message).toContain("AADSTS7000215");
    expect((err as ServerError).status).toBe(401);
    // The same app and secret still work in the other tenants.
    expect(part(await token(sim.authorityHost, HEALTHY), 1).tid).toBe(HEALTHY);
    // The tenant's admin fixes the registration: the next request succeeds, no restart.
    const fixed = await fetch(`${sim.url}/_sim/tenants/bad-secret`, {
      method: "POST",
      body: JSON.stringify({ clientSecret: SECRET }),
    });
    expect(fixed.status).toBe(200);
    expect(JSON.stringify(await fixed.json())).not.toContain(SECRET);
    expect(part(await token(sim.authorityHost, BAD_SECRET), 1).tid).toBe(BAD_SECRET);
  });

  it("answers AADSTS700016 where the app is not registered, and AADSTS90002 for an unknown tenant", async () => {
    const notRegistered = await refusal(token(sim.authorityHost, OTHER_APP));
    expect((notRegistered as ServerError).message).toContain("AADSTS700016");
    // msal's discovery turns any refusal into endpoints_resolution_error; with the authority's
    // metadata given, the token request itself carries Entra's code.
    const unknown = "00000000-1111-4222-8333-444444444444";
    const viaDiscovery = await refusal(token(sim.authorityHost, unknown));
    expect(viaDiscovery).toBeInstanceOf(ClientAuthError);
    expect((viaDiscovery as ClientAuthError).errorCode).toBe("endpoints_resolution_error");
    const direct = await refusal(
      app(sim.authorityHost, unknown, {
        authorityMetadata: metadata(sim.authorityHost, unknown),
      }).acquireTokenByClientCredential({ scopes: [SCOPE] }),
    );
    expect((direct as ServerError).message).toContain("AADSTS90002");
  });

  it("serves a sovereign tenant on the second authority host only, tokens and API alike", async () => {
    const second = sim.secondAuthorityHost as string;
    expect(second).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(second).not.toBe(sim.authorityHost);
    const jwt = await token(second, SOVEREIGN);
    expect(part(jwt, 1).tid).toBe(SOVEREIGN);
    // The commercial host does not know it, as Entra ID does not know another cloud's tenants.
    const crossCloud = await refusal(
      app(sim.authorityHost, SOVEREIGN, {
        authorityMetadata: metadata(sim.authorityHost, SOVEREIGN),
      }).acquireTokenByClientCredential({ scopes: [SCOPE] }),
    );
    expect((crossCloud as ServerError).message).toContain("AADSTS90002");
    expect((await refusal(token(second, HEALTHY))) as Error).toBeInstanceOf(ClientAuthError);
    // Each cloud's API takes only its own tenants' tokens.
    expect((await api(second, "/api/machineactions?$top=1", jwt)).status).toBe(200);
    expect((await api(sim.url, "/api/machineactions?$top=1", jwt)).status).toBe(401);
    const commercial = await token(sim.authorityHost, HEALTHY);
    expect((await api(second, "/api/machineactions?$top=1", commercial)).status).toBe(401);
    const servedThere = sim.requests.filter((r) => r.authority === "second" && r.status === 200);
    expect(new Set(servedThere.map((r) => r.tenant))).toEqual(new Set([SOVEREIGN]));
  });

  it("keeps each tenant's actions, budget and faults apart", async () => {
    const second = sim.secondAuthorityHost as string;
    const healthy = await token(sim.authorityHost, HEALTHY);
    const other = await token(second, SOVEREIGN);
    const mine = sim.tenant("healthy")?.store.list()[0]?.id as string;
    expect((await api(second, `/api/machineactions/${mine}`, other)).status).toBe(404);
    // Three gets fit the healthy tenant's window; the fourth is refused, counted at arrival ...
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await api(sim.url, `/api/machineactions/${mine}`, healthy)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(sim.tenant(HEALTHY)?.quota.used(HEALTHY, "get")).toBe(3);
    // ... while the sovereign tenant spends its own budget, of its own size, for the same endpoint.
    const theirs = sim.tenant("sovereign")?.store.list()[0]?.id as string;
    // Its 404 above was its first get; four more fit its window of five, the next does not.
    const theirStatuses = [];
    for (let i = 0; i < 5; i++)
      theirStatuses.push((await api(second, `/api/machineactions/${theirs}`, other)).status);
    expect(theirStatuses).toEqual([200, 200, 200, 200, 429]);
    expect(sim.tenant(SOVEREIGN)?.quota.used(SOVEREIGN, "get")).toBe(5);
    // A fault scripted for one tenant leaves the others alone.
    sim.injectFault({ endpoint: "list", status: 503, tenant: "sovereign" });
    expect((await api(sim.url, "/api/machineactions?$top=1", healthy)).status).toBe(200);
    expect((await api(second, "/api/machineactions?$top=1", other)).status).toBe(503);
  });

  it("refuses a token without the permission an endpoint needs with 403 Forbidden", async () => {
    const jwt = await token(sim.authorityHost, NO_ROLES);
    const listed = await api(sim.url, "/api/machineactions?$top=1", jwt);
    expect(listed.status).toBe(403);
    expect(listed.body.error).toMatchObject({ code: "Forbidden" });
    expect(JSON.stringify(listed.body)).toContain("Machine.Read.All");
  });

  it("lists its tenants and scripts each one's actions over the admin API", async () => {
    const listed = (await (await fetch(`${sim.url}/_sim/tenants`)).json()) as Record<string, unknown>[];
    expect(listed.map((t) => [t.name, t.authority])).toEqual([
      ["healthy", "first"],
      ["bad-secret", "first"],
      ["sovereign", "second"],
      ["no-roles", "first"],
      ["other-app", "first"],
    ]);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    const added = await fetch(`${sim.url}/_sim/actions?tenant=sovereign`, { method: "POST", body: "{}" });
    const { id } = (await added.json()) as { id: string };
    expect(sim.tenant(SOVEREIGN)?.store.get(id)).toBeDefined();
    expect(sim.store.get(id)).toBeUndefined();
    expect(
      (await fetch(`${sim.url}/_sim/actions?tenant=nobody`, { method: "POST", body: "{}" })).status,
    ).toBe(404);
  });
});

/** What msal would otherwise discover: given, it sends the token request straight away. */
function metadata(host: string, tenant: string): string {
  return JSON.stringify({
    issuer: `${host}/${tenant}/v2.0`,
    authorization_endpoint: `${host}/${tenant}/oauth2/v2.0/authorize`,
    token_endpoint: `${host}/${tenant}/oauth2/v2.0/token`,
    jwks_uri: `${host}/${tenant}/discovery/v2.0/keys`,
  });
}
