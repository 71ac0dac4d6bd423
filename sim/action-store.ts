import { randomUUID } from "node:crypto";
import { type ActionStatus, isoUtc, type MachineAction, type NewAction } from "./machine-action.js";
import { type Rng, randomHex } from "./rng.js";
import { generateActions } from "./seed-actions.js";

export interface ActionStoreOptions {
  now?: () => number;
  /** Default delay before a newly added action is readable, like Defender's eventual consistency. */
  notFoundLagMs?: number;
}

export interface DriftOptions {
  intervalMs: number;
  rng?: Rng;
  /** Chance per tick that a non-terminal action moves one step on (default 0.3). */
  stepProbability?: number;
}

export class ActionStore {
  private readonly actions = new Map<string, { action: MachineAction; visibleAfter: number }>();
  private readonly now: () => number;
  private readonly lagMs: number;
  private driftTimer: NodeJS.Timeout | undefined;

  constructor(options: ActionStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.lagMs = options.notFoundLagMs ?? 0;
  }

  add(partial: NewAction = {}): MachineAction {
    const { visibleAfter, ...fields } = partial;
    const now = this.now();
    const created = isoUtc(now);
    const action: MachineAction = {
      type: "RunAntiVirusScan",
      scope: null,
      requestor: "analyst@contoso.com",
      requestorComment: "simulated action",
      status: "Pending",
      machineId: randomHex(Math.random, 40),
      computerDnsName: "desktop-sim.contoso.local",
      creationDateTimeUtc: created,
      lastUpdateDateTimeUtc: created,
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationDateTimeUtc: null,
      errorHResult: 0,
      externalId: null,
      requestSource: "PublicApi",
      relatedFileInfo: null,
      commands: [],
      troubleshootInfo: null,
      title: null,
      ...fields,
      id: (fields.id ?? randomUUID()).toLowerCase(),
    };
    this.actions.set(action.id, { action, visibleAfter: visibleAfter ?? now + this.lagMs });
    return structuredClone(action);
  }

  /** The action whatever its visibility: for tests and operators, not for the API. */
  get(id: string): MachineAction | undefined {
    const entry = this.actions.get(id.toLowerCase());
    return entry && structuredClone(entry.action);
  }

  /** The action as the API sees it: undefined until `visibleAfter` has passed. */
  lookup(id: string): MachineAction | undefined {
    const entry = this.actions.get(id.toLowerCase());
    return entry && entry.visibleAfter <= this.now() ? structuredClone(entry.action) : undefined;
  }

  /** Every action the API can see, in insertion order (so $skip paging is stable). */
  list(match: (action: MachineAction) => boolean = () => true): MachineAction[] {
    const now = this.now();
    // Matched before cloned: a filter over 20,000 actions must not copy them all.
    return [...this.actions.values()]
      .filter((e) => e.visibleAfter <= now && match(e.action))
      .map((e) => structuredClone(e.action));
  }

  get size(): number {
    return this.actions.size;
  }

  /** Applies `change` to the stored action and stamps lastUpdateDateTimeUtc; undefined if unknown. */
  update(id: string, change: Partial<MachineAction>): MachineAction | undefined {
    const entry = this.actions.get(id.toLowerCase());
    if (!entry) return undefined;
    Object.assign(entry.action, change, { id: entry.action.id, lastUpdateDateTimeUtc: isoUtc(this.now()) });
    return structuredClone(entry.action);
  }

  setStatus(id: string, status: ActionStatus): MachineAction | undefined {
    return this.update(id, { status });
  }

  /** Adds `n` old, immediately visible actions with a realistic mix; the same rng seed gives the same tenant. */
  seed(n: number, rng: Rng): MachineAction[] {
    return generateActions(n, rng, this.now()).map((partial) => this.add({ ...partial, visibleAfter: 0 }));
  }

  /** Moves live actions on over time (Pending → InProgress → Succeeded), so a cancel can lose the race. */
  startDrift(options: DriftOptions): void {
    this.stopDrift();
    const rng = options.rng ?? Math.random;
    const p = options.stepProbability ?? 0.3;
    this.driftTimer = setInterval(() => {
      for (const { action } of this.actions.values()) {
        if (action.status === "Pending" && rng() < p) this.setStatus(action.id, "InProgress");
        else if (action.status === "InProgress" && rng() < p) this.setStatus(action.id, "Succeeded");
      }
    }, options.intervalMs);
    this.driftTimer.unref();
  }

  stopDrift(): void {
    clearInterval(this.driftTimer);
    this.driftTimer = undefined;
  }
}

export type { ActionStatus, MachineAction, NewAction } from "./machine-action.js";
export { ACTION_STATUSES, ACTION_TYPES, isoUtc, TERMINAL_STATUSES } from "./machine-action.js";
