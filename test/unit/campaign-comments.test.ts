import { describe, expect, it } from "vitest";
import { parseCancelJob } from "../../shared/contract/cancel-job.js";
import { CampaignComments } from "../../shared/redis/campaign-comments.js";

const ID = "5382f7ea-7557-4ab7-9782-d50480024a4e";

/** A campaign store holding the comments given, counting its reads. */
function store(comments: Record<string, string>) {
  const reads: string[] = [];
  return {
    reads,
    comment: async (id: string) => {
      reads.push(id);
      return comments[id];
    },
  };
}

describe("a campaign's comment, stored once in its record", () => {
  it("fills a campaign job that left it out, reading each campaign once", async () => {
    const s = store({ c1: "superseded by playbook" });
    const comments = new CampaignComments(s);
    const a = await comments.fill({ machineActionId: ID, campaignId: "c1" });
    const b = await comments.fill({ machineActionId: ID, campaignId: "c1" });
    expect(parseCancelJob(a)).toMatchObject({ ok: true, job: { comment: "superseded by playbook" } });
    expect(b).toEqual(a);
    expect(s.reads).toEqual(["c1"]);
  });

  it("leaves a job that carries its own comment as it is, without a read", async () => {
    const s = store({ c1: "from the record" });
    const job = { machineActionId: ID, comment: "its own", campaignId: "c1" };
    expect(await new CampaignComments(s).fill(job)).toBe(job);
    expect(s.reads).toEqual([]);
  });

  it("keeps a job without a comment invalid when it names no campaign, or one whose record is gone", async () => {
    const comments = new CampaignComments(store({}));
    for (const data of [{ machineActionId: ID }, { machineActionId: ID, campaignId: "gone" }]) {
      const parsed = parseCancelJob(await comments.fill(data));
      expect(parsed.ok).toBe(false);
    }
  });

  it("fills from what it already read without waiting (fillKnown), and nothing else", async () => {
    const comments = new CampaignComments(store({ c1: "known" }));
    expect(comments.fillKnown({ machineActionId: ID, campaignId: "c1" })).toEqual({
      machineActionId: ID,
      campaignId: "c1",
    });
    await comments.fill({ machineActionId: ID, campaignId: "c1" });
    expect(comments.fillKnown({ machineActionId: ID, campaignId: "c1" })).toMatchObject({ comment: "known" });
  });
});
