import type { ChildProcess } from "node:child_process";
import { collect, startCli } from "../../support/cli.js";
import { track } from "./evidence.js";

/** A worker process (`mde-cancel worker`) whose output is kept for the secrets scan. */
export interface WorkerProcess {
  child: ChildProcess;
  exited: ReturnType<typeof collect>;
  output(): string;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = startCli(["worker"], env);
  let out = "";
  child.stdout?.on("data", (c) => {
    out += c;
  });
  child.stderr?.on("data", (c) => {
    out += c;
  });
  const exited = collect(child);
  exited.then((run) => track(run.stdout, run.stderr));
  return { child, exited, output: () => out };
}

export async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
}
