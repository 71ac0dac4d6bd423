/**
 * One run of the fairness scenario (test/support/fairness.ts) in a process of its own, started with
 * NODE_EXTRA_CA_CERTS so its in-process worker trusts the simulator; the figures go back over IPC.
 * Settings in BENCH_FAIRNESS (JSON: aJobs, bJobs, paced).
 */
import { runFairness } from "../test/support/fairness.js";

const scenario = JSON.parse(process.env.BENCH_FAIRNESS ?? "{}") as Parameters<typeof runFairness>[0];
const figures = await runFairness(scenario);
process.send?.({ ready: figures }, () => process.exit(0));
