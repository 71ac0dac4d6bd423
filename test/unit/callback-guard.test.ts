import { describe, expect, it } from "vitest";
import {
  checkCallbackUrl,
  type ResolvedAddress,
  type Resolver,
} from "../../intake/callbacks/callback-guard.js";

// Decisions only: nothing here opens a connection or asks a real DNS server.
const DNS: Record<string, string[]> = {
  "hooks.example.com": ["93.184.215.14"],
  "v6.example.com": ["2606:4700::6810:84e5"],
  "metadata.example.com": ["169.254.169.254"],
  "intranet.example.com": ["10.0.0.1"],
  "ula.example.com": ["fd00::1"],
  "split.example.com": ["93.184.215.14", "192.168.1.1"],
  "mapped.example.com": ["::ffff:10.0.0.1"],
  localhost: ["127.0.0.1", "::1"],
};

function resolver(): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (host: string): Promise<ResolvedAddress[]> => {
    asked.push(host);
    const found = DNS[host];
    if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const check = (url: string, allowedHosts: string[] = [], resolve: Resolver = resolver()) =>
  checkCallbackUrl(url, { allowedHosts, resolve });

describe("the callback guard", () => {
  it("allows a public https host, and returns the address it checked", async () => {
    const decision = await check("https://hooks.example.com/cb?sig=abc");
    expect(decision).toMatchObject({
      allowed: true,
      hostname: "hooks.example.com",
      address: "93.184.215.14",
    });
    expect(await check("https://v6.example.com/cb")).toMatchObject({ allowed: true, family: 6 });
  });

  for (const address of [
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "127.0.0.2",
    "100.64.0.1",
  ])
    it(`refuses ${address}, naming callbackUrl and the range`, async () => {
      const decision = await check(`https://${address}/cb`);
      expect(decision.allowed).toBe(false);
      if (!decision.allowed) {
        expect(decision.reason).toMatch(/^callbackUrl host .* resolves to .*INTAKE_CALLBACK_HOSTS/);
        expect(decision.transient).toBe(false);
      }
    });

  for (const address of [
    "[fd00::1]",
    "[::ffff:10.0.0.1]",
    "[::1]",
    "[fe80::1]",
    "[::]",
    "[::ffff:169.254.169.254]",
  ])
    it(`refuses the IPv6 address ${address}`, async () => {
      expect(await check(`https://${address}/cb`)).toMatchObject({ allowed: false, transient: false });
    });

  it("names the kind of address it refused", async () => {
    expect(await check("https://169.254.169.254/latest/meta-data")).toMatchObject({
      reason: expect.stringMatching(/169\.254\.169\.254, a link-local address/),
    });
    expect(await check("https://[fd00::1]/")).toMatchObject({
      reason: expect.stringMatching(/a private address/),
    });
  });

  it("refuses a name resolving to a private, metadata or mapped address", async () => {
    for (const host of [
      "intranet.example.com",
      "metadata.example.com",
      "ula.example.com",
      "mapped.example.com",
    ])
      expect(await check(`https://${host}/cb`)).toMatchObject({ allowed: false, transient: false });
  });

  it("refuses a name resolving to a public and a private address: either could be reached", async () => {
    const decision = await check("https://split.example.com/cb");
    expect(decision).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/192\.168\.1\.1, a private/),
    });
  });

  it("allows a private or loopback host listed in INTAKE_CALLBACK_HOSTS, with or without its port", async () => {
    expect(await check("https://intranet.example.com/cb", ["intranet.example.com"])).toMatchObject({
      allowed: true,
      address: "10.0.0.1",
    });
    expect(await check("https://127.0.0.1:8443/cb", ["127.0.0.1:8443"])).toMatchObject({ allowed: true });
    expect(await check("https://[::1]:8443/cb", ["[::1]:8443"])).toMatchObject({
      allowed: true,
      address: "::1",
    });
    // Another port, or another loopback address, is not what was listed.
    expect(await check("https://127.0.0.1:9443/cb", ["127.0.0.1:8443"])).toMatchObject({ allowed: false });
    expect(await check("https://127.0.0.2:8443/cb", ["127.0.0.1:8443"])).toMatchObject({ allowed: false });
    expect(await check("https://127.0.0.1/cb", ["127.0.0.1:8443"])).toMatchObject({ allowed: false });
  });

  it("takes http:// only for a listed loopback host", async () => {
    expect(await check("http://127.0.0.1:8080/cb", ["127.0.0.1:8080"])).toMatchObject({ allowed: true });
    expect(await check("http://localhost:8080/cb", ["localhost:8080"])).toMatchObject({ allowed: true });
    for (const [url, listed] of [
      ["http://hooks.example.com/cb", []],
      ["http://hooks.example.com/cb", ["hooks.example.com"]],
      ["http://intranet.example.com/cb", ["intranet.example.com"]],
      ["http://127.0.0.1:8080/cb", []],
    ] as const)
      expect(await check(url, [...listed])).toMatchObject({
        allowed: false,
        reason: expect.stringMatching(/^callbackUrl must be https:\/\//),
      });
    expect(await check("ftp://hooks.example.com/cb")).toMatchObject({ allowed: false });
    expect(await check("not a url")).toMatchObject({ allowed: false, reason: /absolute https/ });
  });

  it("refuses a name that cannot be resolved, or not in time, as transient", async () => {
    expect(await check("https://nowhere.example.com/cb")).toMatchObject({
      allowed: false,
      transient: true,
      reason: expect.stringMatching(/could not be resolved.*ENOTFOUND/),
    });
    const never: Resolver = () => new Promise(() => undefined);
    const slow = await checkCallbackUrl("https://hooks.example.com/", {
      allowedHosts: [],
      resolve: never,
      lookupTimeoutMs: 50,
    });
    expect(slow).toMatchObject({ allowed: false, transient: true, reason: /no answer within/ });
  });

  it("asks the resolver once per check and never for an address literal", async () => {
    const resolve = resolver();
    await check("https://hooks.example.com/a", [], resolve);
    await check("https://10.0.0.1/a", [], resolve);
    expect(resolve.asked).toEqual(["hooks.example.com"]);
  });
});
