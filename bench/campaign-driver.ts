/**
 * A producer in a process of its own, trusting the simulator's CA as the workers do: starts a campaign
 * of the ids it is sent, through `Producer.startCampaign` (whatever state check that makes), and
 * follows it as `campaign --wait` does, answering every sample's ETA.
 */
import { Producer } from "../jobs/producer.js";
import { parseConfig } from "../shared/config/config.js";
import { serveIpc } from "./common.js";

export interface EtaSample {
  /** Date.now() of the sample. */
  at: number;
  done: number;
  total: number;
  etaMs: number;
}
export interface DriverRun {
  /** Just before startCampaign. */
  startedAt: number;
  /** When startCampaign returned: the jobs are in. */
  enqueuedAt: number;
  /** The first sample that saw every job finished. */
  finishedAt: number;
  samples: EtaSample[];
}

const config = parseConfig(process.env as Record<string, string>);
const producer = await Producer.open(config, { env: process.env });

serveIpc(async (m): Promise<DriverRun | undefined> => {
  if (m.op !== "run") return undefined;
  const startedAt = Date.now();
  const { campaignId } = await producer.startCampaign({
    source: { ids: m.ids as string[], label: "bench campaign" },
    comment: "bench campaign drain",
  });
  const enqueuedAt = Date.now();
  const samples: EtaSample[] = [];
  await producer.waitForCampaign(campaignId, {
    intervalMs: 250,
    onSample: (s) =>
      samples.push({
        at: Date.now(),
        done: s.record.done,
        total: s.record.total,
        etaMs: s.etaMs ?? Number.NaN,
      }),
  });
  return { startedAt, enqueuedAt, finishedAt: Date.now(), samples };
});

process.once("SIGTERM", () => {
  producer.close().finally(() => process.exit(0));
});
process.send?.({ ready: true });
