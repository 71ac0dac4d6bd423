/**
 * Whether a run's Defender calls spend only the campaign's share of the budget
 * (CAMPAIGN_BUDGET_SHARE) instead of all of it. The class follows the job's BullMQ priority, read
 * at the start of each run: a campaign job is campaign-class only while it carries a priority. A
 * job without one is urgent, and urgent jobs use the whole budget (the contract), so when an urgent
 * enqueue promotes a campaign's job (priority removed: jobs/promote-job.ts) its next runs use the
 * whole budget; it keeps its campaignId and still counts in the campaign's record. A job with a
 * priority but no campaign (`enqueue --priority`) stays urgent-class: the priority only orders it.
 */
export function usesCampaignBudget(
  job: { campaignId?: string | undefined },
  priority: number | undefined,
): boolean {
  return job.campaignId !== undefined && (priority ?? 0) > 0;
}
