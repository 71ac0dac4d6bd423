/**
 * A child of the seen bench: starts one campaign through the library's Producer (the ids in
 * BENCH_SEEN, looked up first or not) and waits for it, then reports its record over IPC.
 * A process of its own, so NODE_EXTRA_CA_CERTS (the simulator's certificate) applies.
 */
import { Producer } from "../jobs/producer.js";
import { parseConfig, readEnvironment } from "../shared/config/config.js";

const { ids, lookUp } = JSON.parse(process.env.BENCH_SEEN ?? "{}") as { ids: string[]; lookUp: boolean };
const environment = readEnvironment(process.env, process.cwd());
const producer = await Producer.open(parseConfig(environment), { env: environment });
try {
  const t0 = performance.now();
  const started = await producer.startCampaign(
    { source: { ids, label: "bench seen" }, comment: "bench seen" },
    { lookUp },
  );
  const addedMs = performance.now() - t0;
  const record = await producer.waitForCampaign(started.campaignId, { intervalMs: 100 });
  process.send?.({ ready: { counts: record?.counts, addedMs, drainMs: performance.now() - t0 } });
} finally {
  await producer.close();
}
