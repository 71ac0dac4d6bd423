/**
 * Budget admitted ahead of a call, within one job's run: a cancel's claim and its budget are taken in
 * one script (RateLimiter.takeClaiming), and the admission waits here until the run's POST asks the
 * limiter for it, so the POST costs no second round trip. Scoped to the run (AsyncLocalStorage), so an
 * admission never serves another job's call.
 */

import { AsyncLocalStorage } from "node:async_hooks";

/** An admitted call, as the limiter hands it out. */
export interface HeldAdmission {
  ok: true;
  settle(): Promise<void>;
  release(): Promise<void>;
}

const runs = new AsyncLocalStorage<Map<string, HeldAdmission>>();

/** Runs one job's run with a place for admissions taken ahead of its calls. */
export function withJobAdmissions<T>(run: () => Promise<T>): Promise<T> {
  return runs.run(new Map(), run);
}

/** True inside `withJobAdmissions`: an admission taken ahead can wait for its call. */
export function canHoldAdmissions(): boolean {
  return runs.getStore() !== undefined;
}

/** Keeps `admission` for the run's next call of `key` (tenant, endpoint and class). */
export function holdAdmission(key: string, admission: HeldAdmission): void {
  runs.getStore()?.set(key, admission);
}

/** The admission held for `key`, handed out once. */
export function takeHeldAdmission(key: string): HeldAdmission | undefined {
  const held = runs.getStore();
  const admission = held?.get(key);
  if (admission) held?.delete(key);
  return admission;
}

/** Gives back the admission held for `key` if no call used it (nothing was sent). */
export async function releaseHeldAdmission(key: string): Promise<void> {
  await takeHeldAdmission(key)?.release();
}
