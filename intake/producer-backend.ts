import type { CampaignStart } from "../jobs/campaign.js";
import type { CampaignOrder, DryRun } from "../jobs/campaign-order.js";
import type { JobView } from "../jobs/job-view.js";
import type { Producer } from "../jobs/producer.js";
import { BadRequestError, errorMessage, UpstreamError, UsageError } from "../shared/core/errors.js";
import type { Logger } from "../shared/core/logger.js";
import type { CampaignRecord } from "../shared/redis/campaign-store.js";
import type { CancelAccepted, CancelOrder, IntakeBackend, ResultsPage } from "./backend.js";
import { fieldProblem, IntakeProblem } from "./problem.js";

/**
 * The intake's backend: the library's Producer, with what went wrong said the way an HTTP
 * caller can act on it (the field to fix, or 502 when Defender did not answer).
 */
export class ProducerBackend implements IntakeBackend {
  constructor(
    private readonly producer: Producer,
    private readonly logger: Logger,
  ) {}

  async enqueue(order: CancelOrder): Promise<CancelAccepted> {
    const { priority, ...request } = order;
    const [enqueued] = await this.producer.enqueue([request], { priority, defaultTenantId: order.tenantId });
    if (!enqueued) throw new IntakeProblem(500, "The job could not be added.");
    const state = enqueued.added
      ? "waiting"
      : ((await this.producer.job(enqueued.jobId))?.state ?? "finished");
    // Promotion of a campaign job by an urgent request (issue 12) will report itself through Enqueued.
    const promoted = (enqueued as { promoted?: boolean }).promoted === true;
    return { ...enqueued, state, promoted };
  }

  cancelJob(jobId: string): Promise<JobView | undefined> {
    return this.producer.job(jobId);
  }

  async startCampaign(order: CampaignOrder): Promise<CampaignStart> {
    if (order.campaignId && (await this.producer.campaign(order.campaignId)))
      throw nameTaken(order.campaignId);
    try {
      // 202 as soon as the jobs are added (the contract): ids are not looked up first; the
      // workers check them in batches. A filter's jobs still carry the states it listed.
      return await this.defender(order, () => this.producer.startCampaign(order, { lookUp: false }));
    } catch (err) {
      // Checked above: only a campaign created meanwhile under the same name gets here.
      if (err instanceof UsageError && order.campaignId && /already exists/.test(err.message))
        throw nameTaken(order.campaignId);
      throw err;
    }
  }

  async dryRun(order: CampaignOrder): Promise<DryRun> {
    const dry = await this.defender(order, () => this.producer.dryRun(order));
    // Without credentials nothing was looked up, whatever the count of ids.
    return dry.looked ? dry : { ...dry, lookedUp: 0 };
  }

  campaign(campaignId: string): Promise<CampaignRecord | undefined> {
    return this.producer.campaign(campaignId);
  }

  campaignResults(campaignId: string, page: { cursor?: string; limit: number }): Promise<ResultsPage> {
    return this.producer.campaignResults(campaignId, page);
  }

  /** Runs a call that may list actions through Defender (a filter, a dry run's lookups). */
  private async defender<T>(order: CampaignOrder, call: () => Promise<T>): Promise<T> {
    const filter = "filter" in order.source ? order.source : undefined;
    const { clientId, clientSecret, clientCertificatePath } = this.producer.config;
    if (filter && !(clientId && (clientSecret || clientCertificatePath)))
      throw fieldProblem(
        "filter",
        "needs this service's Defender credentials (AZURE_CLIENT_ID and a secret or certificate); send machineActionIds instead",
      );
    try {
      return await call();
    } catch (err) {
      if (filter && err instanceof UsageError && /more than --max/.test(err.message))
        throw fieldProblem(
          "filter",
          `matches more than max ${filter.max} actions that can be cancelled; narrow it, or raise max`,
        );
      if (filter && err instanceof BadRequestError)
        throw fieldProblem("filter", `was refused by Defender (${err.message})`);
      if (!(err instanceof UpstreamError)) throw err;
      this.logger.warn({ err: errorMessage(err) }, "Defender list call failed");
      throw new IntakeProblem(502, "Defender did not answer the list call; try again later.", undefined, 30);
    }
  }
}

function nameTaken(name: string): IntakeProblem {
  return fieldProblem(
    "name",
    `${JSON.stringify(name)} is the id of an existing campaign; choose another name`,
  );
}
