import { validateCampaignId } from "../jobs/campaign.js";
import type { Producer } from "../jobs/producer.js";
import { withProducer } from "../jobs/with-producer.js";
import type { Config } from "../shared/config/config.js";
import { UsageError } from "../shared/core/errors.js";
import { cliClient } from "./cli-client.js";

/** Options of `campaign` that mean nothing beside --abort. */
const NOT_WITH_ABORT = {
  comment: "--comment",
  idsFile: "--ids-file",
  filter: "--filter",
  retryFailed: "--retry-failed",
  name: "--name",
  priority: "--priority",
  dryRun: "--dry-run",
  wait: "--wait",
  timeout: "--timeout",
  yes: "--yes",
} as const;

/** `campaign --abort <campaignId> [--json]`: finishes the campaign's waiting jobs, prints how many. */
export async function runAbort(
  config: Config,
  campaignId: string,
  opts: Partial<Record<keyof typeof NOT_WITH_ABORT, unknown>> & { json?: boolean },
): Promise<void> {
  const extra = Object.entries(NOT_WITH_ABORT)
    .filter(([key]) => opts[key as keyof typeof NOT_WITH_ABORT] !== undefined)
    .map(([, flag]) => flag);
  if (extra.length > 0)
    throw new UsageError(`--abort takes only --json, not ${extra.join(", ")}; nothing was aborted.`);
  validateCampaignId(campaignId);
  const abort = (producer: Producer) => producer.abortCampaign(campaignId);
  const { aborted } = await withProducer(config, abort, { client: cliClient() });
  process.stdout.write(
    opts.json
      ? `${JSON.stringify({ campaignId, aborted })}\n`
      : `Campaign ${campaignId}: ${aborted} job(s) aborted; jobs in hand, whose cancel was sent, or promoted by an urgent enqueue finish as usual.\n`,
  );
}
