import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ConfidentialClientApplication, ServerError } from "@azure/msal-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureClientCert, ensureServerCert } from "../../sim/certs.js";
import { faultFromJson } from "../../sim/faults.js";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../sim/server.js";

const TENANT = "11111111-2222-4333-8444-555555555555";
const CLIENT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const SECRET = "s3cret-value";
const SCOPE = "https://api.securitycenter.microsoft.com/.default";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const certDir = process.env.MDE_TEST_CERT_DIR ?? join(process.cwd(), ".cache", "test-certs");
const serverPair = ensureServerCert(certDir);
const clientPair = ensureClientCert(certDir);
const clientCertPem = readFileSync(clientPair.certPath, "utf8");
const clientKeyPem = readFileSync(clientPair.keyPath, "utf8");

const running: Simulator[] = [];
async function simulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({
    tls: { key: readFileSync(serverPair.keyPath), cert: readFileSync(serverPair.certPath) },
    tenantId: TENANT,
    clientId: CLIENT,
    clientSecret: SECRET,
    clientCertPem,
    ...options,
  });
  running.push(sim);
  return sim;
}
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});

async function tokenCall(sim: Simulator, form: Record<string, string>, tenant = TENANT) {
  const res = await fetch(`${sim.url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: SCOPE, ...form }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
async function token(sim: Simulator): Promise<string> {
  const { status, body } = await tokenCall(sim, { client_id: CLIENT, client_secret: SECRET });
  expect(status).toBe(200);
  return body.access_token as string;
}
async function api(
  sim: Simulator,
  path: string,
  init: { token?: string; method?: string; body?: unknown } = {},
) {
  const res = await fetch(path.startsWith("https:") ? path : `${sim.url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === "string"
          ? init.body
          : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
const cancel = (sim: Simulator, id: string, tok: string, body: unknown = { Comment: "stop it" }) =>
  api(sim, `/api/machineactions/${id}/cancel`, { token: tok, method: "POST", body });

describe("Entra ID", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await simulator({ tokenTtlSec: 1800 });
  });

  it("serves OpenID metadata whose issuer and endpoints follow the Host header", async () => {
    const { status, body } = await api(sim, `/${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issuer: `${sim.url}/${TENANT}/v2.0`,
      token_endpoint: `${sim.url}/${TENANT}/oauth2/v2.0/token`,
      authorization_endpoint: `${sim.url}/${TENANT}/oauth2/v2.0/authorize`,
      jwks_uri: `${sim.url}/${TENANT}/discovery/v2.0/keys`,
    });
  });

  it("issues a token for the right secret and refuses a wrong one with AADSTS7000215", async () => {
    const good = await tokenCall(sim, { client_id: CLIENT, client_secret: SECRET });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ token_type: "Bearer", expires_in: 1800 });
    const bad = await tokenCall(sim, { client_id: CLIENT, client_secret: "nope" });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ error: "invalid_client", error_codes: [7000215] });
    expect(bad.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
  });

  it("refuses an unknown tenant (AADSTS90002) and an unknown client (AADSTS700016)", async () => {
    const tenant = await tokenCall(
      sim,
      { client_id: CLIENT, client_secret: SECRET },
      "99999999-0000-4000-8000-000000000000",
    );
    expect(tenant.status).toBe(400);
    expect(tenant.body.error_codes).toEqual([90002]);
    const client = await tokenCall(sim, {
      client_id: "00000000-0000-4000-8000-000000000000",
      client_secret: SECRET,
    });
    expect(client.status).toBe(400);
    expect(client.body.error_codes).toEqual([700016]);
  });

  it("gives a client-certificate token to the real msal-node, and refuses a foreign key", async () => {
    const thumbprintSha256 = new X509Certificate(clientCertPem).fingerprint256.replace(/:/g, "");
    const app = (privateKey: string) =>
      new ConfidentialClientApplication({
        auth: {
          clientId: CLIENT,
          authority: `${sim.authorityHost}/${TENANT}`,
          knownAuthorities: [`127.0.0.1:${sim.port}`],
          clientCertificate: { thumbprintSha256, privateKey },
        },
      });
    const before = sim.tokenRequests();
    const result = await app(clientKeyPem).acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(result?.accessToken).toBeTruthy();
    expect(sim.tokenRequests()).toBe(before + 1);
    const action = sim.store.add({ visibleAfter: 0 });
    const got = await api(sim, `/api/machineactions/${action.id}`, { token: result?.accessToken });
    expect(got.status).toBe(200);

    const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    const foreign = app(String(otherKey)).acquireTokenByClientCredential({ scopes: [SCOPE] });
    await expect(foreign).rejects.toBeInstanceOf(ServerError);
    await expect(foreign).rejects.toMatchObject({ errorCode: "invalid_client", errorNo: 700027 });
  });
});

describe("Defender machine actions", () => {
  let sim: Simulator;
  let tok: string;
  beforeAll(async () => {
    sim = await simulator({ actions: 40, seed: 3, pageSize: 7 });
    tok = await token(sim);
  });

  it("GETs an action in Defender's shape", async () => {
    const action = sim.store.add({ type: "Isolate", scope: "Full", visibleAfter: 0 });
    const { status, body, headers } = await api(sim, `/api/machineactions/${action.id}`, { token: tok });
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^application\/json/);
    expect(body).toEqual({ "@odata.context": `${sim.url}/api/$metadata#MachineActions/$entity`, ...action });
  });

  it("answers 401 Unauthorized without a token, with a token it never issued, and after revocation", async () => {
    const id = sim.store.list()[0]?.id ?? "";
    for (const t of [undefined, "forged.token."]) {
      const res = await api(sim, `/api/machineactions/${id}`, { token: t });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("Unauthorized");
    }
    const own = await token(sim);
    expect((await api(sim, `/api/machineactions/${id}`, { token: own })).status).toBe(200);
    sim.revokeTokens();
    expect((await api(sim, `/api/machineactions/${id}`, { token: own })).status).toBe(401);
    tok = await token(sim);
    expect((await api(sim, `/api/machineactions/${id}`, { token: tok })).status).toBe(200);
  });

  it("answers 404 ResourceNotFound for an unknown id and 400 InvalidInput for a non-GUID", async () => {
    const missing = await api(sim, "/api/machineactions/00000000-0000-4000-8000-000000000000", {
      token: tok,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      code: "ResourceNotFound",
      target: expect.stringMatching(GUID),
    });
    const bad = await api(sim, "/api/machineactions/not-a-guid", { token: tok });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("InvalidInput");
    expect(bad.body.error.target).not.toBe(missing.body.error.target);
  });

  it("hides a fresh action until it becomes visible", async () => {
    const action = sim.store.add({ visibleAfter: Date.now() + 300 });
    const first = await api(sim, `/api/machineactions/${action.id}`, { token: tok });
    expect(first.status).toBe(404);
    const deadline = Date.now() + 5_000;
    let status = first.status;
    while (status === 404 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      status = (await api(sim, `/api/machineactions/${action.id}`, { token: tok })).status;
    }
    expect(status).toBe(200);
  });

  it("cancels a live action and records who and why", async () => {
    const action = sim.store.add({ status: "InProgress", visibleAfter: 0 });
    const { status, body } = await cancel(sim, action.id, tok, { Comment: "false positive" });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: action.id,
      status: "Cancelled",
      cancellationComment: "false positive",
      cancellationRequestor: CLIENT,
    });
    expect(Date.parse(body.cancellationDateTimeUtc)).toBeGreaterThan(Date.now() - 60_000);
    expect(sim.store.get(action.id)?.status).toBe("Cancelled");
  });

  it("validates the cancel body: Comment is required and case-sensitive, and it must be JSON", async () => {
    const action = sim.store.add({ visibleAfter: 0 });
    for (const body of [{}, { comment: "lower case" }, { Comment: "" }]) {
      const res = await cancel(sim, action.id, tok, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("MissingRequiredParameter");
    }
    const notJson = await cancel(sim, action.id, tok, "Comment=hello");
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe("InvalidRequestBody");
    expect(sim.store.get(action.id)?.status).toBe("Pending");
  });

  it("lists with $filter and pages through @odata.nextLink", async () => {
    const expected = sim.store.list().filter((a) => a.status === "Succeeded" || a.status === "Pending");
    expect(expected.length).toBeGreaterThan(7);
    const seen: string[] = [];
    let next: string | undefined =
      `/api/machineactions?$filter=${encodeURIComponent("status in ('Succeeded','Pending')")}`;
    let pages = 0;
    while (next) {
      const page = await api(sim, next, { token: tok });
      expect(page.status).toBe(200);
      expect(page.body["@odata.context"]).toBe(`${sim.url}/api/$metadata#MachineActions`);
      expect(page.body.value.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.value.map((a: { id: string }) => a.id));
      next = page.body["@odata.nextLink"];
      if (next) expect(next.startsWith(`${sim.url}/api/machineactions?`)).toBe(true);
      pages++;
    }
    expect(seen).toEqual(expected.map((a) => a.id));
    expect(pages).toBe(Math.ceil(expected.length / 7));

    const top = await api(sim, "/api/machineactions?$top=3&$skip=2", { token: tok });
    expect(top.body.value.map((a: { id: string }) => a.id)).toEqual(
      sim.store
        .list()
        .slice(2, 5)
        .map((a) => a.id),
    );
    expect(top.body["@odata.nextLink"]).toBe(`${sim.url}/api/machineactions?$top=3&$skip=5`);
  });

  it("answers 400 ODataError for a malformed filter or an oversized $top", async () => {
    for (const query of [
      "$filter=status eq Pending",
      "$filter=computerDnsName eq 'x'",
      "$top=10001",
      "$skip=-1",
    ]) {
      const res = await api(sim, `/api/machineactions?${query}`, { token: tok });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("ODataError");
    }
  });

  it("answers 414 to a request line over 2,048 characters, as a front door would, spending no budget", async () => {
    const line = (path: string) => `GET ${path} HTTP/1.1`.length;
    const base = "/api/machineactions?$top=1&pad=";
    const longest = base + "x".repeat(2048 - line(base));
    expect(line(longest)).toBe(2048);
    const before = sim.requests.length;
    const quota = sim.tenant(TENANT)?.quota;
    const used = quota?.used(TENANT, "list") ?? -1;
    const fits = await fetch(`${sim.url}${longest}`, { headers: { authorization: `Bearer ${tok}` } });
    expect(fits.status).toBe(200);
    const over = await fetch(`${sim.url}${longest}x`, { headers: { authorization: `Bearer ${tok}` } });
    expect(over.status).toBe(414);
    expect(await over.text()).toMatch(/URL is too long/);
    expect(sim.requests.slice(before).map((r) => [r.endpoint, r.status])).toEqual([
      ["list", 200],
      ["list", 414],
    ]);
    expect(quota?.used(TENANT, "list")).toBe(used + 1);
  });

  it("records requests without their Authorization header, and serves the log over the admin API", async () => {
    const log = await api(sim, "/_sim/requests");
    expect(log.status).toBe(200);
    expect(log.body.length).toBe(sim.requests.length);
    expect(sim.issuedTokens()).toContain(tok);
    for (const issued of sim.issuedTokens()) expect(JSON.stringify(log.body)).not.toContain(issued);
    const lastGet = sim.requests.filter((r) => r.endpoint === "get").at(-1);
    expect(lastGet).toMatchObject({ method: "GET", tenant: TENANT, status: expect.any(Number) });
    expect(sim.requestCount("list")).toBeGreaterThan(0);
  });
});

describe("cancelling a finished action", () => {
  it.each([
    ["400", 400, "BadRequest"],
    ["403", 403, "DisallowedOperation"],
  ] as const)("terminalCancel %s answers %i %s", async (mode, status, code) => {
    const sim = await simulator({ terminalCancel: mode });
    const action = sim.store.add({ status: "Succeeded", visibleAfter: 0 });
    const res = await cancel(sim, action.id, await token(sim));
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(sim.store.get(action.id)?.status).toBe("Succeeded");
  });

  it('terminalCancel "200" answers the unchanged entity', async () => {
    const sim = await simulator({ terminalCancel: "200" });
    const action = sim.store.add({ status: "TimeOut", visibleAfter: 0 });
    const res = await cancel(sim, action.id, await token(sim));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: action.id, status: "TimeOut", cancellationComment: null });
  });
});

describe("quota", () => {
  it("answers 429 TooManyRequests with Retry-After once an endpoint's budget is spent", async () => {
    const sim = await simulator({ rateLimits: [{ limit: 3, windowMs: 60_000 }] });
    const tok = await token(sim);
    const action = sim.store.add({ visibleAfter: 0 });
    for (let i = 0; i < 3; i++)
      expect((await api(sim, `/api/machineactions/${action.id}`, { token: tok })).status).toBe(200);
    const refused = await api(sim, `/api/machineactions/${action.id}`, { token: tok });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.error).toMatchObject({
      code: "TooManyRequests",
      target: expect.stringMatching(GUID),
    });
    // Cancel has its own budget.
    expect((await cancel(sim, action.id, tok)).status).toBe(200);
  });
});

describe("faults", () => {
  let sim: Simulator;
  let tok: string;
  let id: string;
  beforeAll(async () => {
    sim = await simulator();
    tok = await token(sim);
    id = sim.store.add({ visibleAfter: 0 }).id;
  });

  it("injects statuses in order, for the given number of requests", async () => {
    sim.injectFault({ endpoint: "get", status: 503, times: 2 });
    sim.injectFault({ endpoint: "get", status: 429 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await api(sim, `/api/machineactions/${id}`, { token: tok }));
    expect(statuses.map((r) => r.status)).toEqual([503, 503, 429, 200]);
    expect(statuses[2]?.headers.get("retry-after")).toBe("1");
    expect(statuses[0]?.body.error.code).toBe("ServiceUnavailable");
    sim.injectFault({ endpoint: "get", status: 401 });
    const unauthorized = await api(sim, `/api/machineactions/${id}`, { token: tok });
    expect(unauthorized.body.error).toMatchObject({
      code: "Unauthorized",
      target: expect.stringMatching(GUID),
    });
    expect(sim.requests.filter((r) => r.fault === "injected").length).toBeGreaterThanOrEqual(3);
  });

  it("applies a fault only where it matches", async () => {
    sim.injectFault({ endpoint: "any", status: 500, match: (req) => req.path.endsWith("/cancel") });
    expect((await api(sim, `/api/machineactions/${id}`, { token: tok })).status).toBe(200);
    expect((await cancel(sim, id, tok)).status).toBe(500);
  });

  it("resets the connection, or delays past the client's timeout", async () => {
    sim.injectFault({ endpoint: "get", reset: true });
    const reset = fetch(`${sim.url}/api/machineactions/${id}`, {
      headers: { authorization: `Bearer ${tok}` },
    });
    await expect(reset).rejects.toMatchObject({ cause: { code: "ECONNRESET" } });
    expect(sim.requests.at(-1)).toMatchObject({ endpoint: "get", status: 0, fault: "injected" });
    sim.injectFault({ endpoint: "get", delayMs: 30_000 });
    const slow = fetch(`${sim.url}/api/machineactions/${id}`, {
      headers: { authorization: `Bearer ${tok}` },
      signal: AbortSignal.timeout(200),
    });
    await expect(slow).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("decides a delayed cancel on arrival, so a client that timed out has still cancelled", async () => {
    const live = sim.store.add({ visibleAfter: 0 }).id;
    sim.injectFault({ endpoint: "cancel", delayMs: 30_000 });
    const slow = fetch(`${sim.url}/api/machineactions/${live}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${tok}`, "content-type": "application/json" },
      body: JSON.stringify({ Comment: "slow" }),
      signal: AbortSignal.timeout(200),
    });
    await expect(slow).rejects.toMatchObject({ name: "TimeoutError" });
    expect(sim.store.get(live)).toMatchObject({ status: "Cancelled", cancellationComment: "slow" });
  });

  it("applies a cancel whose answer it drops (dropAnswer), so the client cannot tell", async () => {
    const live = sim.store.add({ visibleAfter: 0 }).id;
    sim.injectFault(faultFromJson({ endpoint: "cancel", dropAnswer: true }));
    await expect(cancel(sim, live, tok)).rejects.toMatchObject({ cause: { code: "ECONNRESET" } });
    expect(sim.requests.at(-1)).toMatchObject({ endpoint: "cancel", status: 0, fault: "injected" });
    expect(sim.store.get(live)).toMatchObject({ status: "Cancelled", cancellationComment: "stop it" });
  });

  it("adds seeded random faults to Defender calls only", async () => {
    const noisy = await simulator({ faults: { p429: 0.3, p503: 0.2 }, seed: 9 });
    const noisyTok = await token(noisy);
    const target = noisy.store.add({ visibleAfter: 0 }).id;
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await api(noisy, `/api/machineactions/${target}`, { token: noisyTok });
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get("retry-after")).toBe("1");
    }
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    expect(statuses).toContain(503);
    expect(noisy.requests.filter((r) => r.fault === "random").length).toBe(
      statuses.filter((s) => s !== 200).length,
    );
    expect(noisy.requests.find((r) => r.endpoint === "token")?.fault).toBeUndefined();
  });

  it("accepts faults over the admin API", async () => {
    const queued = await api(sim, "/_sim/faults", {
      method: "POST",
      body: { endpoint: "token", status: 503 },
    });
    expect(queued.status).toBe(201);
    const refused = await tokenCall(sim, { client_id: CLIENT, client_secret: SECRET });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe("temporarily_unavailable");
    const bad = await api(sim, "/_sim/faults", { method: "POST", body: { endpoint: "everything" } });
    expect(bad.status).toBe(400);
  });

  it("creates actions over the admin API", async () => {
    const created = await api(sim, "/_sim/actions", {
      method: "POST",
      body: { status: "InProgress", type: "Isolate" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "InProgress",
      type: "Isolate",
      id: expect.stringMatching(GUID),
    });
    expect((await api(sim, `/api/machineactions/${created.body.id}`, { token: tok })).body.status).toBe(
      "InProgress",
    );
    expect((await api(sim, "/_sim/actions", { method: "POST", body: { status: "Done" } })).status).toBe(400);
  });
});

describe("close", () => {
  it("ends promptly although a request is in flight and a client sits mid-handshake", async () => {
    const sim = await simulator();
    const tok = await token(sim);
    sim.injectFault({ endpoint: "get", delayMs: 60_000 });
    const inFlight = fetch(`${sim.url}/api/machineactions/${sim.store.add({ visibleAfter: 0 }).id}`, {
      headers: { authorization: `Bearer ${tok}` },
    });
    const silent = connect(sim.port, "127.0.0.1");
    silent.on("error", () => {});
    await once(silent, "connect");
    const deadline = Date.now() + 5_000;
    while (sim.requestCount("get") === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(sim.requestCount("get")).toBe(1);

    const started = Date.now();
    const outcome = await Promise.race([
      sim.close().then(() => "closed"),
      new Promise((r) => setTimeout(r, 3_000, "still open")),
    ]);
    expect(outcome).toBe("closed");
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(inFlight).rejects.toThrow(TypeError);
    await expect(fetch(`${sim.url}/${TENANT}/v2.0/.well-known/openid-configuration`)).rejects.toThrow(
      TypeError,
    );
  });
});
