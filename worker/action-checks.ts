import type { MachineAction } from "../shared/contract/cancel-result.js";
import { isGuid } from "../shared/contract/guid.js";
import { MAX_IDS_PER_CHECK } from "../shared/defender/action-batches.js";
import type { CallOptions, DefenderClient } from "../shared/defender/defender-client.js";
import type { RecentSightings } from "../shared/redis/recent-sightings.js";

/** A check's options; a campaign job's names its campaign, whose upcoming jobs may ride along. */
export interface CheckOptions extends CallOptions {
  campaignId?: string;
}

/** The two Defender calls the gatherer makes: a batched check, and a single GET for what it did not find. */
export interface CheckCalls {
  checkActions: DefenderClient["checkActions"];
  getAction(tenantId: string, id: string, options?: CallOptions): Promise<MachineAction>;
}

export interface ActionChecksOptions {
  /** CHECK_GATHER_MS: how long the first check of a batch waits for others; 0 sends each alone. */
  gatherMs: number;
  /** A batch goes at once when it holds this many checks (40, as many as one list call carries). */
  maxIds?: number;
  /** Where a list call with room finds campaign jobs due soon, and leaves what it saw of them. */
  ahead?: Pick<RecentSightings, "upcoming" | "remember">;
}

interface Waiting {
  id: string;
  options: CheckOptions;
  resolve(action: MachineAction): void;
  reject(err: unknown): void;
}

/** A tenant's checks waiting to be sent, and its list calls still on the wire. */
interface Gathering {
  checks: Waiting[];
  timer?: NodeJS.Timeout;
  inFlight: number;
  /** The gathering time is over: send as soon as no list call of the tenant is on the wire. */
  due: boolean;
}

/** One list call of a flush: its class (campaign or not) and the checks it answers. */
export interface PlannedCheck {
  campaign: boolean;
  checks: Waiting[];
}

/**
 * The state checks of the jobs a worker runs at once, gathered for CHECK_GATHER_MS per tenant, and
 * for as long as a list call of that tenant is on the wire, then sent as one `$filter=id in (...)`
 * call of the list endpoint (up to 40 ids; 40 waiting go at once): at concurrency 50, 50 GETs
 * become 2 list calls, and later checks, which arrive one by one as jobs finish, still share calls.
 * Each caller gets its own action; an id missing from the answer is checked alone with a GET (which
 * may 404: the processor's not-found grace). A budget wait, a 429 or an error of the batch call
 * reaches every caller in it as the same error, so each job decides as it would have on its own GET.
 * The cost: a check may wait for the tenant's list call on the wire (at most HTTP_TIMEOUT_MS).
 */
export class ActionChecks {
  private readonly tenants = new Map<string, Gathering>();
  private readonly maxIds: number;

  constructor(
    private readonly calls: CheckCalls,
    private readonly options: ActionChecksOptions,
  ) {
    this.maxIds = options.maxIds ?? MAX_IDS_PER_CHECK;
  }

  /** The action's state, as `getAction` would give it, through a shared batched call. */
  getAction(tenantId: string, id: string, options: CheckOptions = {}): Promise<MachineAction> {
    // Not a GUID: its own GET refuses it, without failing the batch it would have joined.
    if (this.options.gatherMs <= 0 || !isGuid(id)) return this.calls.getAction(tenantId, id, options);
    return new Promise((resolve, reject) => {
      let gathering = this.tenants.get(tenantId);
      if (!gathering) {
        gathering = { checks: [], inFlight: 0, due: false };
        this.tenants.set(tenantId, gathering);
      }
      gathering.checks.push({ id: id.toLowerCase(), options, resolve, reject });
      if (gathering.checks.length >= this.maxIds) this.flush(tenantId, gathering);
      else if (gathering.checks.length === 1 && !gathering.timer) {
        const ready = gathering;
        ready.timer = setTimeout(() => {
          ready.timer = undefined;
          ready.due = true;
          // While a list call of this tenant is on the wire, checks keep gathering until it is answered.
          if (ready.inFlight === 0) this.flush(tenantId, ready);
        }, this.options.gatherMs);
      }
    });
  }

  private flush(tenantId: string, gathering: Gathering): void {
    clearTimeout(gathering.timer);
    gathering.timer = undefined;
    gathering.due = false;
    const checks = gathering.checks.splice(0);
    for (const planned of planChecks(checks, this.maxIds)) {
      gathering.inFlight++;
      void this.send(tenantId, planned).finally(() => {
        gathering.inFlight--;
        if (gathering.inFlight === 0 && gathering.due && gathering.checks.length > 0)
          this.flush(tenantId, gathering);
        else if (gathering.inFlight === 0 && gathering.checks.length === 0 && !gathering.timer)
          this.tenants.delete(tenantId);
      });
    }
  }

  private async send(tenantId: string, planned: PlannedCheck): Promise<void> {
    const ahead = await this.lookAhead(tenantId, planned.checks);
    const [only, ...others] = planned.checks;
    // One check alone: a GET costs the same one call, on the get budget, and answers 404 itself.
    if (only && others.length === 0 && ahead.length === 0) {
      await this.calls.getAction(tenantId, only.id, only.options).then(only.resolve, only.reject);
      return;
    }
    let found: Map<string, MachineAction>;
    const leftAt = Date.now();
    try {
      const ids = planned.checks.map((c) => c.id);
      found = await this.calls.checkActions(tenantId, [...ids, ...ahead], {
        campaign: planned.campaign,
        signal: everyAborted(planned.checks.map((c) => c.options.signal)),
      });
    } catch (err) {
      for (const check of planned.checks) check.reject(err);
      return;
    }
    if (ahead.length > 0) {
      const seen = ahead.flatMap((id) => {
        const status = found.get(id)?.status;
        return typeof status === "string" ? [{ id, status }] : [];
      });
      // Lost, the statuses only cost those jobs their own checks later.
      this.options.ahead?.remember(tenantId, seen, leftAt).catch(() => undefined);
    }
    for (const check of planned.checks) {
      const action = found.get(check.id);
      if (action) check.resolve(action);
      // Not listed: Defender may not show a fresh action yet; a GET says so (404) or finds it.
      else this.calls.getAction(tenantId, check.id, check.options).then(check.resolve, check.reject);
    }
  }

  /** The actions of the campaigns' jobs due soon that fit in the call's room (none when Redis fails). */
  private async lookAhead(tenantId: string, checks: readonly Waiting[]): Promise<string[]> {
    const campaigns = new Set(checks.flatMap((c) => (c.options.campaignId ? [c.options.campaignId] : [])));
    const room = this.maxIds - checks.length;
    if (!this.options.ahead || campaigns.size === 0 || room <= 0) return [];
    const asked = new Set(checks.map((c) => c.id));
    const ids = await this.options.ahead.upcoming(tenantId, campaigns, room).catch(() => []);
    return ids.filter((id) => !asked.has(id));
  }
}

/**
 * The list calls of one flush. Urgent checks go first, in the urgent class (the whole budget);
 * campaign checks fill the room left in the last urgent call, where they ride for free, and the
 * rest go in calls of the campaign class, so campaign checks never spend urgent headroom on their
 * own and an urgent check never waits for the campaign share.
 */
export function planChecks<T extends { options: CallOptions }>(
  checks: readonly T[],
  maxIds: number,
): { campaign: boolean; checks: T[] }[] {
  const urgent = checks.filter((c) => !c.options.campaign);
  const campaign = checks.filter((c) => c.options.campaign);
  const planned: { campaign: boolean; checks: T[] }[] = [];
  for (let i = 0; i < urgent.length; i += maxIds)
    planned.push({ campaign: false, checks: urgent.slice(i, i + maxIds) });
  const last = planned.at(-1);
  const room = last ? maxIds - last.checks.length : 0;
  if (last) last.checks.push(...campaign.slice(0, room));
  for (let i = room; i < campaign.length; i += maxIds)
    planned.push({ campaign: true, checks: campaign.slice(i, i + maxIds) });
  return planned;
}

/** A signal that aborts the shared call only once every caller's run was aborted (shutdown). */
function everyAborted(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  if (signals.length === 0 || signals.some((s) => s === undefined)) return undefined;
  const all = signals as AbortSignal[];
  const controller = new AbortController();
  const check = () => {
    if (all.every((s) => s.aborted)) controller.abort();
  };
  for (const s of all) s.addEventListener("abort", check, { once: true });
  check();
  return controller.signal;
}
