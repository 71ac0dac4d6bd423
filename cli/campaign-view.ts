import cliProgress from "cli-progress";
import { dryRunSummary } from "../jobs/campaign.js";
import type { ProgressSample } from "../jobs/campaign-progress.js";
import { formatDuration } from "../shared/config/durations.js";
import type { MachineAction } from "../shared/contract/cancel-result.js";
import { OUTCOMES } from "../shared/contract/cancel-result.js";
import type { CampaignRecord } from "../shared/redis/campaign-store.js";

const PLAIN_EVERY_MS = 5_000;

/** A live bar on a terminal; a plain line every few seconds otherwise (logs, CI). */
export class ProgressView {
  private bar: cliProgress.SingleBar | undefined;
  private lastLine = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly tty: boolean,
  ) {}

  update(sample: ProgressSample): void {
    const { record } = sample;
    const payload = {
      counts: OUTCOMES.map((o) => `${o} ${record.counts[o]}`).join(", "),
      rate: `${sample.perMinute.toFixed(1)}/min`,
      eta: sample.etaMs === undefined ? "unknown" : formatDuration(sample.etaMs),
    };
    if (this.tty) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          {
            stream: this.out,
            format: "{bar} {value}/{total} | {counts} | {rate} | ETA {eta}",
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(record.total, record.done, payload);
      }
      this.bar.setTotal(record.total);
      this.bar.update(record.done, payload);
      return;
    }
    const now = Date.now();
    if (now - this.lastLine < PLAIN_EVERY_MS && record.done < record.total) return;
    this.lastLine = now;
    this.out.write(
      `progress ${record.done}/${record.total} (${payload.counts}) ${payload.rate}, ETA ${payload.eta}\n`,
    );
  }

  stop(): void {
    this.bar?.stop();
  }
}

export function printSummary(
  out: NodeJS.WritableStream,
  record: CampaignRecord,
  failedIds: string[],
  json: boolean,
): void {
  if (json) {
    out.write(
      `${JSON.stringify({ campaignId: record.id, total: record.total, done: record.done, counts: record.counts, failedActionIds: failedIds })}\n`,
    );
    return;
  }
  out.write(`Campaign ${record.id}\n`);
  for (const outcome of OUTCOMES)
    out.write(`  ${outcome.padEnd(18)}${String(record.counts[outcome]).padStart(8)}\n`);
  out.write(`  ${"total".padEnd(18)}${String(record.total).padStart(8)}\n`);
  if (failedIds.length > 0) {
    out.write(
      `Failed actions (mde-cancel campaign --retry-failed ${record.id} --comment ... enqueues them again):\n`,
    );
    for (const id of failedIds.slice(0, 20)) out.write(`  ${id}\n`);
    if (failedIds.length > 20) out.write(`  ... and ${failedIds.length - 20} more\n`);
  }
}

/**
 * What a dry run found: the count, the first ids and, when the actions could be looked up
 * (a filter, or credentials to look up an ids file), counts by current status and type.
 */
export function printDryRun(
  out: NodeJS.WritableStream,
  run: { source: string; ids: string[]; looked?: MachineAction[]; lookedUp: number; json: boolean },
): void {
  const summary = dryRunSummary(run);
  const firstIds = run.ids.slice(0, 10);
  if (run.json) {
    out.write(
      `${JSON.stringify({ dryRun: true, source: run.source, toEnqueue: run.ids.length, ...summary, firstIds })}\n`,
    );
    return;
  }
  out.write(`Dry run (${run.source}): ${run.ids.length} action(s) would be enqueued; nothing was.\n`);
  if (summary) {
    const scope = run.lookedUp < run.ids.length ? ` (the first ${run.lookedUp} looked up)` : "";
    out.write(
      `by status${scope}: ${JSON.stringify(summary.byStatus)}; by type: ${JSON.stringify(summary.byType)}\n`,
    );
  } else out.write("Statuses not looked up: set AZURE_CLIENT_ID and a credential to see them.\n");
  for (const id of firstIds) out.write(`  ${id}\n`);
  if (run.ids.length > 10) out.write(`  ... and ${run.ids.length - 10} more\n`);
}
