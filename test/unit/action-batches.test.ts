import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BadRequestError, UrlTooLongError } from "../../shared/core/errors.js";
import {
  absoluteUrl,
  checkIds,
  checkPath,
  DEFAULT_BATCH_LIMITS,
  idBatches,
  MAX_CHECK_URL_LENGTH,
  MAX_IDS_PER_CHECK,
} from "../../shared/defender/action-batches.js";
import { responseError } from "../../shared/defender/response-error.js";

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
const urlOf = (base: string, batch: string[]) => absoluteUrl(base, checkPath(batch));

// Tenant-independent hosts of every length, up to one that leaves room for a single id, and
// paths that percent-encoding makes longer than they look.
const BASES = [
  "https://api.securitycenter.microsoft.com",
  "https://api-gov.securitycenter.microsoft.us/",
  "https://127.0.0.1:4443",
  `https://${"a".repeat(60)}.example.com/${"p".repeat(400)}`,
  `https://proxy.example.com/${"ä".repeat(150)} x`,
  `https://long.example.com/${"q".repeat(1000)}`,
  `https://edge.example.com/${"r".repeat(1880)}`,
];

describe("idBatches", () => {
  it("never makes a URL over 2,048 characters nor a batch over 40 ids, and keeps every id in order", () => {
    const all = ids(1000);
    for (const base of BASES) {
      const batches = idBatches(base, all);
      expect(batches.flat()).toEqual(all);
      for (const batch of batches) {
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.length).toBeLessThanOrEqual(MAX_IDS_PER_CHECK);
        expect(urlOf(base, batch).length).toBeLessThanOrEqual(MAX_CHECK_URL_LENGTH);
      }
      // Each batch is as large as allowed: one more id would break a limit.
      for (const [k, batch] of batches.slice(0, -1).entries()) {
        const grown = [...batch, batches[k + 1]?.[0] ?? ""];
        expect(grown.length > MAX_IDS_PER_CHECK || urlOf(base, grown).length > MAX_CHECK_URL_LENGTH).toBe(
          true,
        );
      }
    }
  });

  it("fits 40 ids per check on Defender's own host, fewer under a long base URL", () => {
    const all = ids(400);
    expect(idBatches("https://api.securitycenter.microsoft.com", all).map((b) => b.length)).toEqual(
      Array(10).fill(40),
    );
    const long = idBatches(`https://long.example.com/${"q".repeat(1000)}`, all);
    expect(Math.max(...long.map((b) => b.length))).toBeLessThan(40);
  });

  it("counts the percent-encoded URL, not the characters as written", () => {
    const base = `https://proxy.example.com/${"ä".repeat(150)}`;
    const url = urlOf(base, ids(1));
    expect(url).toContain("%C3%A4");
    expect(url).toContain("%24filter=id+in+%28%27");
    // Counted as written, this base would leave room for 40 ids.
    expect(idBatches(base, ids(40)).length).toBe(2);
  });

  it("honours smaller limits (a halved batch)", () => {
    const batches = idBatches("https://api.securitycenter.microsoft.com", ids(45), {
      ...DEFAULT_BATCH_LIMITS,
      maxIds: 20,
    });
    expect(batches.map((b) => b.length)).toEqual([20, 20, 5]);
  });

  it("refuses a base URL that leaves no room for one id, naming the setting", () => {
    expect(() => idBatches(`https://edge.example.com/${"r".repeat(2000)}`, ids(3))).toThrow(
      /MDE_API_BASE_URL/,
    );
  });
});

describe("checkIds", () => {
  it("lets only GUIDs near a URL, lower-cased and once each", () => {
    const id = randomUUID();
    expect(checkIds([id.toUpperCase(), id])).toEqual([id]);
    expect(() => checkIds([id, "x') or (id ne '"])).toThrow(BadRequestError);
  });
});

describe("responseError for a refused request line", () => {
  it("maps 414, and a 400 naming the URL, to UrlTooLongError; other 400s stay bad requests", () => {
    expect(responseError("list", 414, undefined, "", 0)).toBeInstanceOf(UrlTooLongError);
    expect(
      responseError(
        "list",
        400,
        undefined,
        "<h2>Bad Request - Invalid URL</h2> The request URL is invalid.",
        0,
      ),
    ).toBeInstanceOf(UrlTooLongError);
    const odata = { error: { code: "BadRequest", message: "The query specified in the URI is not valid." } };
    const refused = responseError("list", 400, undefined, odata, 0);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect(refused).not.toBeInstanceOf(UrlTooLongError);
  });
});
