import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { enqueueCancels } from "../../jobs/enqueue.js";
import { type Config, parseConfig } from "../../shared/config/config.js";
import { loadTenants } from "../../shared/config/tenants.js";
import type { CancelRequest } from "../../shared/contract/cancel-job.js";
import type { CancelResult } from "../../shared/contract/cancel-result.js";
import { ensureClientCert, ensureServerCert } from "../../sim/certs.js";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../sim/server.js";
import { type RunningWorker, type StartWorkerOptions, startWorker } from "../../worker/run-worker.js";
import { capturingLogger } from "./log-lines.js";
import { deleteKeys, REDIS_URL, uniquePrefix } from "./redis.js";
import { waitFor } from "./wait.js";

export const TENANT = "11111111-2222-3333-4444-555555555555";
export const CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const SECRET = "s3cret-Value-never-logged";
export const OTHER_TENANT = "99999999-8888-7777-6666-555555555555";

export const certDir = process.env.MDE_TEST_CERT_DIR ?? join(process.cwd(), ".cache", "test-certs");

export interface Harness {
  sim: Simulator;
  prefix: string;
  /** The environment a worker or CLI of this test runs with. */
  env: Record<string, string>;
  config: Config;
  logs: string[];
  cancelQueue: Queue;
  resultsQueue: Queue;
  /** `overrides` replace options of startWorker, e.g. a shorter `credentialRetryMs`. */
  startWorker(overrides?: Partial<StartWorkerOptions>): Promise<RunningWorker>;
  /**
   * Waits for the token a started worker asks for at start, then clears the simulator's record of
   * requests, so a test counts only the calls its jobs made.
   */
  forgetStartupRequests(): Promise<void>;
  enqueue(requests: CancelRequest[], options?: { priority?: number }): ReturnType<typeof enqueueCancels>;
  /** Waits until `n` results were published, and returns them all. */
  results(n: number, timeoutMs?: number): Promise<CancelResult[]>;
  close(): Promise<void>;
}

export async function startHarness(
  options: { sim?: Partial<SimulatorOptions>; env?: Record<string, string> } = {},
): Promise<Harness> {
  const tls = ensureServerCert(certDir);
  const sim = await startSimulator({
    tls: { key: readFileSync(tls.keyPath), cert: readFileSync(tls.certPath) },
    tenantId: TENANT,
    clientId: CLIENT,
    clientSecret: SECRET,
    clientCertPem: readFileSync(ensureClientCert(certDir).certPath),
    ...options.sim,
  });
  const prefix = uniquePrefix();
  const env: Record<string, string> = {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    MDE_API_BASE_URL: sim.url,
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: CLIENT,
    AZURE_CLIENT_SECRET: SECRET,
    NOT_FOUND_GRACE_MS: "2000",
    HTTP_TIMEOUT_MS: "5000",
    METRICS_PORT: "0",
    LOG_LEVEL: "debug",
    ...options.env,
  };
  const config = parseConfig(env);
  const logs: string[] = [];
  const logger = capturingLogger(config.logLevel, logs);
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const cancelQueue = new Queue(config.cancelQueue, { connection, prefix });
  const resultsQueue = new Queue(config.resultsQueues[0] ?? "unused", { connection, prefix });
  const workers: RunningWorker[] = [];

  return {
    sim,
    prefix,
    env,
    config,
    logs,
    cancelQueue,
    resultsQueue,
    async startWorker(overrides = {}) {
      const running = await startWorker({
        config,
        tenants: loadTenants({ config, env }),
        logger,
        ...overrides,
      });
      workers.push(running);
      return running;
    },
    async forgetStartupRequests() {
      await waitFor("the worker's token request at start", () =>
        sim.requests.some((r) => r.endpoint === "token" && r.status !== 0),
      );
      sim.requests.length = 0;
    },
    enqueue(requests, opts = {}) {
      return enqueueCancels(cancelQueue, requests, {
        defaultTenantId: TENANT,
        ...opts,
      });
    },
    async results(n, timeoutMs = 20_000) {
      const jobs = await waitFor(
        `${n} results`,
        async () => {
          const found: Job[] = await resultsQueue.getJobs(["waiting", "active", "completed", "failed"]);
          return found.length >= n ? found : undefined;
        },
        timeoutMs,
      );
      return jobs.map((job) => job.data as CancelResult);
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      await cancelQueue.close();
      await resultsQueue.close();
      connection.disconnect();
      await sim.close();
      await deleteKeys(prefix);
    },
  };
}

/** A fresh GUID for an action the test creates. */
export function newActionId(): string {
  return crypto.randomUUID();
}
