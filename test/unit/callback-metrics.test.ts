import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CallbackMetrics } from "../../intake/callbacks/callback-metrics.js";

describe("callback metrics", () => {
  it("count attempts by type and result on the registry they are given, every series from zero", async () => {
    const registry = new Registry();
    const metrics = new CallbackMetrics(registry);
    metrics.onAttempt("retrying", "cancel.finished");
    metrics.onAttempt("failed", "cancel.finished");
    const text = await registry.metrics();
    expect(text).toContain('mde_callback_attempts_total{type="cancel.finished",result="failed"} 1');
    expect(text).toContain('mde_callback_attempts_total{type="cancel.finished",result="retrying"} 1');
    expect(text).toContain('mde_callback_attempts_total{type="campaign.finished",result="failed"} 0');
  });
});
