import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { sleep } from "../shared/core/sleep.js";
import { CANCEL_JOB_NAME, deduplicationId } from "../shared/redis/queues.js";
import { ensureServerCert } from "../sim/certs.js";

/** Redis's `used_memory`: deltas of it give bytes per job on a Redis nobody else writes to meanwhile. */
export async function usedMemory(r: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await r.info("memory"))?.[1]);
}

/** Shared by the bench driver and its child processes; read when used, not when this module loads. */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
}
export const TENANT = "11111111-2222-3333-4444-555555555555";
export const CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const SECRET = "bench-secret";
export const ROOT = process.cwd();
export const CERT_DIR = join(ROOT, ".cache", "bench-certs");
export const QUEUE = "mde-cancel";
const RETENTION_S = 7 * 24 * 3600;

export const certPath = (): string => ensureServerCert(CERT_DIR).certPath;
export const uniquePrefix = (what: string): string => `mdebench-${what}-${randomUUID().slice(0, 8)}`;
export { sleep };

/** The ioredis connection of the driver: auto-pipelining stays off, as in the product. */
export function redis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

/** Deletes every key under `prefix` (UNLINK, 1,000 per round trip). */
export async function deleteKeys(prefix: string): Promise<number> {
  const r = redis();
  let n = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) n += await r.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
  return n;
}

/** The job a producer adds through `enqueueCancels`: same data, id, deduplication and retention. */
export function cancelJob(machineActionId: string, extra: Record<string, unknown> = {}) {
  return {
    name: CANCEL_JOB_NAME,
    data: { machineActionId, comment: "bench", tenantId: TENANT, ...extra },
    opts: {
      jobId: randomUUID(),
      deduplication: { id: deduplicationId(TENANT, machineActionId) },
      removeOnComplete: { age: RETENTION_S },
      removeOnFail: { age: RETENTION_S },
    },
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

/** Polls until `check` returns something, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A child process of the bench, run with tsx, with an IPC channel. */
export interface Child {
  proc: ChildProcess;
  /** The child's first unsolicited message, `{ ready: ... }`. */
  ready: Promise<unknown>;
  request<T>(message: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export function spawnChild(
  args: string[],
  env: Record<string, string>,
  nodeFlags: string[] = [],
  /** Told each line the child writes to stdout (its log); ignored without. */
  onLine?: (line: string) => void,
): Child {
  const proc = spawn(process.execPath, [...nodeFlags, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", onLine ? "pipe" : "ignore", "inherit", "ipc"],
  });
  if (onLine && proc.stdout) createInterface({ input: proc.stdout }).on("line", onLine);
  let seq = 0;
  const pending = new Map<number, (value: unknown) => void>();
  proc.on("message", (m: { id?: number; reply?: unknown }) => {
    if (m.id !== undefined) pending.get(m.id)?.(m.reply);
    if (m.id !== undefined) pending.delete(m.id);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const ready = new Promise<unknown>((resolve, reject) => {
    proc.on("message", (m: { ready?: unknown }) => m.ready !== undefined && resolve(m.ready));
    exited.then(() => reject(new Error(`child ${args.join(" ")} exited before it was ready`)));
  });
  ready.catch(() => undefined);
  return {
    proc,
    ready,
    request<T>(message: Record<string, unknown>) {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, resolve as (value: unknown) => void);
        proc.send({ ...message, id }, (err) => err && reject(err));
        exited.then(() => reject(new Error(`child ${args.join(" ")} exited`)));
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await Promise.race([exited, sleep(15_000).then(() => proc.kill("SIGKILL"))]);
    },
  };
}

/** A bench script under tsx in its own process. */
export const tsxChild = (file: string, env: Record<string, string> = {}, flags: string[] = []) =>
  spawnChild([join(ROOT, "bench", file)], env, ["--import", "tsx", ...flags]);

/** The product's CLI, built (dist/) when there is one, else from source under tsx. */
export function cliArgs(): string[] {
  const built = join(ROOT, "dist", "cli", "main.js");
  return existsSync(built) ? [built] : ["--import", "tsx", join(ROOT, "cli", "main.ts")];
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MiB. */
export function rssMiB(pid: number | undefined): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Redis server CPU seconds (user + system) so far. */
export async function redisCpuSeconds(r: Redis): Promise<number> {
  const info = await r.info("cpu");
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return get("used_cpu_user") + get("used_cpu_sys");
}

export const round = (n: number, digits = 0) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Serves IPC requests in a child: `handler` answers each message. */
export function serveIpc(handler: (m: Record<string, unknown>) => Promise<unknown> | unknown): void {
  process.on("message", async (m: Record<string, unknown>) => {
    const reply = await handler(m);
    process.send?.({ id: m.id, reply });
  });
}
