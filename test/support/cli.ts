import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = join(import.meta.dirname, "..", "..");
// By absolute URL, so the CLI can run from any working directory (as it does to read a .env).
const tsx = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Starts a TypeScript file of the repository (an example) in its own process, like startCli. */
export function startScript(file: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", tsx, join(root, file), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs a TypeScript file of the repository (an example) to its end. */
export function runScript(file: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  const started = Date.now();
  return collect(startScript(file, args, env), started);
}

/** Starts `mde-cancel <args>` from source in its own process, with exactly `env` plus PATH and the CA. */
export function startCli(args: string[], env: Record<string, string>, cwd = root): ChildProcess {
  return spawn(process.execPath, ["--import", tsx, join(root, "cli", "main.ts"), ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export function runCli(args: string[], env: Record<string, string>, cwd?: string): Promise<CliRun> {
  const started = Date.now();
  const child = startCli(args, env, cwd);
  return collect(child, started);
}

export function collect(child: ChildProcess, started = Date.now()): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c) => {
    stdout += c;
  });
  child.stderr?.on("data", (c) => {
    stderr += c;
  });
  return new Promise((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })),
  );
}
