import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../../cli/free-port.js";
import { collect } from "./cli.js";
import { waitFor } from "./wait.js";

/** A private redis-server on a free port; `args` are its command-line options. */
export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  start(): Promise<void>;
  /** SHUTDOWN (AOF is fsynced) and wait until the port is closed. */
  shutdown(): Promise<void>;
  /** SIGKILL, as a crash or a lost host would: nothing is flushed. */
  kill(): Promise<void>;
  /** SIGSTOP: Redis freezes with every connection open, answering nothing until `resume()`. */
  freeze(): void;
  /** SIGCONT after `freeze()`. */
  resume(): void;
  readonly running: boolean;
}

export async function redisServer(args: string[] = [], port?: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "mde-redis-"));
  const p = port ?? (await freePort());
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    dir,
    async start() {
      child = spawn("redis-server", ["--port", String(p), "--bind", "127.0.0.1", "--dir", dir, ...args], {
        stdio: "ignore",
      });
      await waitFor(`redis-server on ${p}`, () => ping(p), 10_000, 50);
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    freeze() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
    async kill() {
      const gone = child;
      if (!gone || gone.exitCode !== null || gone.signalCode !== null) return;
      gone.kill("SIGKILL");
      await waitFor(`redis-server on ${p} to die`, () => gone.exitCode !== null || gone.signalCode !== null);
    },
    async shutdown() {
      const admin = new Redis(p, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      admin.on("error", () => undefined);
      await admin.connect();
      await admin.call("SHUTDOWN").catch(() => undefined); // the connection closes under the reply
      admin.disconnect();
      const gone = child;
      await waitFor(
        `redis-server on ${p} to exit`,
        () => gone?.exitCode !== null || gone?.signalCode !== null,
      );
    },
  };
  await server.start();
  return server;
}

async function ping(port: number): Promise<boolean> {
  const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A local 3-node Redis Cluster (no replicas, no persistence); `stop` ends every node. */
export async function redisCluster(): Promise<{ nodes: RedisServer[]; url: string; stop(): Promise<void> }> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "mde-cluster-"));
    nodes.push(
      await redisServer(
        [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--save",
          "",
          "--appendonly",
          "no",
        ],
        port,
      ),
    );
  }
  const create = spawn(
    "redis-cli",
    [
      "--cluster",
      "create",
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const run = await collect(create);
  if (run.code !== 0) throw new Error(`redis-cli --cluster create failed: ${run.stdout}${run.stderr}`);
  await waitFor("cluster_state:ok on every node", async () => {
    for (const n of nodes) {
      const r = new Redis(n.port, { lazyConnect: true });
      await r.connect();
      const info = await r.cluster("INFO");
      r.disconnect();
      if (!String(info).includes("cluster_state:ok")) return false;
    }
    return true;
  });
  return {
    nodes,
    url: nodes[0]?.url as string,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.shutdown()));
    },
  };
}
