/** The "what limits it" section of docs/benchmarks.md: the run's numbers plus what profiling found. */
import { round } from "./common.js";
import type { Report, TierSummary } from "./report.js";

interface Key {
  a: TierSummary;
  ap?: TierSummary;
  b: TierSummary;
  c: TierSummary;
  d: TierSummary;
  c1: TierSummary;
  c2: TierSummary;
  cd: number;
  bindingMean: number;
}

const pct = (x: number) => `${round(100 * x, 1)}%`;

export function findings(r: Report, k: Key): string[] {
  const cpuTotal = k.c.cpu.workers + k.c.cpu.sim + k.c.cpu.redis;
  const extraGets = r.budget.calls - 2 * r.budget.n;
  const defenderCallsPerSec = 1500 / 3600;
  return [
    "## What limits the numbers",
    "",
    `**(c) against (d): ${pct(k.cd)}, target 70% ${k.cd >= 0.7 ? "met" : "missed"}.** The machine's CPU is the limit: during`,
    `(c) the workers, the simulator and Redis used ${round(cpuTotal)}% of the ${r.host.nproc * 100}% the cores offer`,
    "(the driver's polling and anything else running take the rest). (c) makes about half of (d)'s Defender",
    "calls: the state checks of the jobs it runs at once go out as one list call (section 7), so it can outrun",
    "(d); section 10 also runs it with one GET per check, call for call against (d). Per job, besides its",
    "calls, (c) sends about 7.4 Redis commands (section 10 names them): the job's fetch and completion",
    "(`moveToFinished`), claim, budget and pause in one script, two fenced progress writes (the cancel marker",
    "that must be in Redis before the POST leaves, then the decided result, so a crash re-publishes instead",
    "of calling Defender again), the result job, the callback and audit scripts. (d) does none of that.",
    "",
    "A CPU profile of one worker process (`node --cpu-prof`, 1 x 50, limits lifted, one GET per check,",
    "2026-12-03) split its time roughly: axios 16%; socket writes 18% (every Redis command and HTTP request",
    "is one `write` on a loopback socket; the claim's script alone 5%); garbage collection 7.5%; TLS 4.5%;",
    "ioredis and BullMQ 5% each; pino and its redaction 2.5%; idle 5%.",
    "",
    "Applied after profiles: the token provider serves the token from memory until msal would renew it",
    "(expiresOn - 5 min) instead of asking msal's cache per call (about 4-5% of worker CPU); no",
    "AsyncLocalStorage on the hot path (its promise hooks slowed every await: the budget a claim takes now",
    "travels with its POST, and a new connection's pause check reads its call from the request's options);",
    "p-retry only after a refused publish. Considered and not applied: `LOG_LEVEL=warn` instead of `info`",
    "(+2% in a development A/B, 630 vs 616 jobs/s, 1 process; the outcome line is what operators need).",
    "",
    `More worker processes: one process saturates its core (${round(k.c1.jobsPerSec)} jobs/s); two reach`,
    `${round(k.c2.jobsPerSec)} jobs/s, no more, because Redis and the simulator need the second core too.`,
    "",
    `None of this matters in production: Defender admits about ${round(defenderCallsPerSec, 2)} cancels a second per`,
    `tenant and app (1,500/h), and (c) runs about ${round(k.c.jobsPerSec / defenderCallsPerSec)} times faster than that.`,
    "",
    `**Auto-pipelining** stays off: ${k.ap ? `(a) ran at ${round(k.ap.jobsPerSec)} jobs/s with it and ${round(k.a.jobsPerSec)} without` : "not measured"};`,
    "in development the full pipeline was unchanged by it (615 vs 616 jobs/s, 1 process; 634 vs 662, 2 processes).",
    "",
    `**Budget use: binding window at ${pct(k.bindingMean)}, target 95% ${k.bindingMean >= 0.95 ? "met" : "missed"}.**`,
    "The limiter counts each call from its admission until its answer, settled on Redis's clock, with no",
    "pad: a slot serves one call per window plus that call's answer time (the drain table's rates). Refused",
    "jobs are promised the time their slot frees (a burst of slots freeing together wakes as many jobs",
    "together), come back a little early and wait the rest in place (at most a tenth of the window, 1 s), and",
    "a job whose slot frees late keeps its place. What is left of the shortfall is the answer time, the time a",
    "woken job takes from its slot to its request (timers and Redis round trips on a busy machine), and the",
    "first window's burst against the sliding windows. The peak column shows that no window ever held more",
    "than its limit, and the simulator answered no 429.",
    "",
    `**Calls per action under the budget: ${round(r.budget.callsPerAction, 3)}** (extra calls: ${extraGets} for ${r.budget.n} actions). A job`,
    "whose POST finds no budget goes back to the delayed set after its GET, and checks the state again with",
    "a new GET when it returns (the action may have finished meanwhile). Without limits it is exactly 2.0.",
    "",
  ];
}
