/** The comments of campaigns, read once per campaign by a worker whose jobs leave them out. */

import { campaignOf, withCampaignComment } from "../contract/cancel-job.js";
import type { CampaignStore } from "./campaign-store.js";

/** Campaigns remembered at once; a campaign's comment never changes, so any of them may be dropped. */
const REMEMBERED = 1_000;

export class CampaignComments {
  private readonly known = new Map<string, string>();

  constructor(private readonly store: Pick<CampaignStore, "comment">) {}

  /** `data` with its campaign's comment when it left it out (one HGET per campaign); else as it is. */
  async fill(data: unknown): Promise<unknown> {
    const campaignId = campaignOf(data);
    if (campaignId === undefined) return data;
    let comment = this.known.get(campaignId);
    if (comment === undefined) {
      comment = await this.store.comment(campaignId);
      if (comment === undefined) return data;
      if (this.known.size >= REMEMBERED) this.known.delete(this.known.keys().next().value as string);
      this.known.set(campaignId, comment);
    }
    return withCampaignComment(data, comment);
  }

  /** `fill` from what this worker already read, without waiting for Redis (undefined comment else). */
  fillKnown(data: unknown): unknown {
    const campaignId = campaignOf(data);
    return campaignId === undefined ? data : withCampaignComment(data, this.known.get(campaignId));
  }
}
