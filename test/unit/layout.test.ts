/**
 * The rooms' rules as checks (docs/architecture.md): Biome's noRestrictedImports and noProcessEnv
 * (biome.json) refuse a forbidden import or env read, and the rule Biome cannot express, Lua only
 * in shared/redis/, is checked here by reading the product files.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

/** Folders whose files ship or show how to use the product; test/ may poke Redis as it likes. */
const PRODUCT_ROOMS = ["shared", "jobs", "worker", "intake", "cli", "sim", "examples", "bench"];
const LUA = /redis\.p?call\s*\(|defineCommand|\beval(sha)?\s*\(/;

interface SourceFile {
  path: string;
  text: string;
}

/** The files outside shared/redis/ that define or run Lua. */
function luaOutsideRedisRoom(files: SourceFile[]): string[] {
  return files.filter((f) => !f.path.startsWith("shared/redis/") && LUA.test(f.text)).map((f) => f.path);
}

function productFiles(): SourceFile[] {
  return PRODUCT_ROOMS.flatMap((room) =>
    readdirSync(join(root, room), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts"))
      .map((name) => `${room}/${name.replaceAll("\\", "/")}`)
      .map((path) => ({ path, text: readFileSync(join(root, path), "utf8") })),
  );
}

describe("Lua lives in shared/redis/ only", () => {
  it("finds no redis.call, defineCommand or eval in any other product file", () => {
    const files = productFiles();
    expect(files.map((f) => f.path)).toContain("shared/redis/lua-script.ts");
    expect(
      luaOutsideRedisRoom(files),
      "Lua belongs in shared/redis/ (defineScript in shared/redis/lua-script.ts); move these scripts there",
    ).toEqual([]);
  });

  it("names a file that runs Lua from another room", () => {
    const files = [
      { path: "worker/x.ts", text: 'await redis.eval("return 1", 0);' },
      { path: "jobs/y.ts", text: "const lua = \"redis.call('GET', KEYS[1])\";" },
      { path: "shared/redis/z.ts", text: "redis.defineCommand(name, { numberOfKeys, lua });" },
    ];
    expect(luaOutsideRedisRoom(files)).toEqual(["worker/x.ts", "jobs/y.ts"]);
  });
});

/** The folders the README's Layout table lists, as `shared/redis/` or `jobs/`. */
function layoutTableFolders(readme: string): string[] {
  const section = readme.slice(readme.indexOf("## Layout"));
  return [...section.matchAll(/^\| `([^`]+\/)` /gm)].map((m) => m[1] as string);
}

/** The tree's folders: every top-level one, with shared/ as its rooms. */
function treeFolders(): string[] {
  const dirs = (path: string) =>
    readdirSync(join(root, path), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith(".") && !["node_modules", "dist"].includes(d.name))
      .map((d) => `${path}${d.name}/`);
  return dirs("").flatMap((dir) => (dir === "shared/" ? dirs(dir) : [dir]));
}

describe("the README's Layout table", () => {
  it("lists every folder of the tree and no folder that is gone", () => {
    const listed = layoutTableFolders(readFileSync(join(root, "README.md"), "utf8"));
    expect(listed, "README.md, Layout: one row per folder (and per room of shared/)").toEqual(
      expect.arrayContaining(treeFolders()),
    );
    expect(treeFolders()).toEqual(expect.arrayContaining(listed));
  });
});

/**
 * One probe file per case, linted in one Biome run. `.js` probes: Biome applies the same rules to
 * them and tsc, which a neighbour may be running, does not read them.
 */
const probes: { room: string; source: string; refusal: RegExp | null }[] = [
  {
    room: "shared/core",
    source: 'import "../../worker/x.js";',
    refusal: /shared\/ imports nothing of worker\//,
  },
  {
    room: "shared/redis",
    source: 'import "../../cli/x.js";',
    refusal: /never import cli\/, sim\/ or intake\//,
  },
  { room: "jobs", source: 'import "../sim/server.js";', refusal: /never import cli\/, sim\/ or intake\// },
  { room: "worker", source: 'import "../jobs/index.js";', refusal: /worker\/ never imports jobs\// },
  { room: "jobs", source: 'import "../worker/cancel-worker.js";', refusal: /jobs\/ never imports worker\// },
  { room: "worker", source: 'import "axios";', refusal: /Only shared\/defender\/ talks to Microsoft/ },
  {
    room: "shared/redis",
    source: 'import "node:https";',
    refusal: /Only shared\/defender\/ talks to Microsoft/,
  },
  {
    room: "cli",
    source: 'import "@azure/msal-node";',
    refusal: /Only shared\/defender\/ talks to Microsoft/,
  },
  { room: "jobs", source: 'import "ioredis";', refusal: /Only shared\/redis\/ opens ioredis/ },
  {
    room: "intake",
    source: 'import "../worker/run-worker.js";',
    refusal: /intake\/ builds on jobs\/ and shared\/ only/,
  },
  { room: "intake", source: 'import "ioredis";', refusal: /Only shared\/redis\/ opens ioredis/ },
  { room: "sim", source: 'import "../shared/core/errors.js";', refusal: /sim\/ stands in for Microsoft/ },
  { room: "shared/config", source: "export const url = process.env.REDIS_URL;", refusal: /process\.env/ },
  // What each room may do.
  { room: "shared/defender", source: 'import "axios";', refusal: null },
  { room: "shared/redis", source: 'import "ioredis";', refusal: null },
  { room: "sim", source: 'import "../shared/config/durations.js";', refusal: null },
  { room: "cli", source: 'import "../sim/server.js";', refusal: null },
  { room: "intake", source: 'import "../jobs/producer.js";', refusal: null },
];

interface Diagnostic {
  category: string;
  message: string;
  location: { path: string };
}

describe("biome.json's room rules", () => {
  const paths = probes.map((p, i) => `${p.room}/zz-layout-probe-${process.pid}-${i}.js`);
  let diagnostics: Diagnostic[] = [];

  beforeAll(() => {
    try {
      probes.forEach((p, i) => {
        writeFileSync(join(root, paths[i] as string), `${p.source}\n`);
      });
      const biome = spawnSync(
        join(root, "node_modules", ".bin", "biome"),
        ["lint", "--reporter=json", ...paths],
        {
          cwd: root,
          encoding: "utf8",
        },
      );
      diagnostics = (JSON.parse(biome.stdout) as { diagnostics: Diagnostic[] }).diagnostics;
    } finally {
      for (const path of paths) rmSync(join(root, path), { force: true });
    }
  });

  it.each(probes.map((p, i) => ({ ...p, path: paths[i] as string })))(
    "$room/: $source",
    ({ path, refusal }) => {
      const found = diagnostics.filter((d) => d.location.path === path);
      if (refusal === null) {
        expect(found).toEqual([]);
        return;
      }
      expect(found).toHaveLength(1);
      expect(found[0]?.category).toMatch(/^lint\/style\/(noRestrictedImports|noProcessEnv)$/);
      expect(found[0]?.message).toMatch(refusal);
    },
  );
});
