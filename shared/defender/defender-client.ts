/**
 * The Defender room's client: the only code that builds Defender URLs (GET, list, cancel, batched
 * checks). Sending them, with budget and tokens, is DefenderExchange's; what an answer means is
 * responseError's.
 */

import type { MachineAction } from "../contract/cancel-result.js";
import { isGuid } from "../contract/guid.js";
import { BadRequestError, UrlTooLongError } from "../core/errors.js";
import {
  type BatchLimits,
  checkIds,
  checkPath,
  DEFAULT_BATCH_LIMITS,
  firstBatchSize,
} from "./action-batches.js";
import { type CallOptions, DefenderExchange, type ExchangeOptions } from "./defender-exchange.js";

// Declared here before the exchange had a file of its own; importers still name this module.
export type { Budget, CallOptions, Tokens } from "./defender-exchange.js";

export interface DefenderClientOptions extends ExchangeOptions {
  /** Batched checks: 40 ids and 2,048 characters of URL unless a test says otherwise. */
  checkLimits?: Partial<BatchLimits>;
}

export interface ActionPage {
  actions: MachineAction[];
  nextLink?: string;
}

/**
 * The only module that knows Defender's URLs. Every request takes budget from the shared limiter
 * just before it leaves (token already in hand, so the call reaches Microsoft at once), and every
 * answer becomes either data or one of the typed errors of errors.ts.
 */
export class DefenderClient {
  private readonly exchange: DefenderExchange;
  /** Ids per check; halved for good by a 414, since the next check would meet the same front door. */
  private readonly checkLimits: BatchLimits;

  constructor(private readonly options: DefenderClientOptions) {
    this.exchange = new DefenderExchange(options);
    this.checkLimits = { ...DEFAULT_BATCH_LIMITS, ...options.checkLimits };
  }

  getAction(tenantId: string, id: string, options: CallOptions = {}): Promise<MachineAction> {
    return this.exchange.send<MachineAction>(
      tenantId,
      "get",
      "GET",
      `/api/machineactions/${guidSegment(id)}`,
      options,
    );
  }

  cancelAction(
    tenantId: string,
    id: string,
    comment: string,
    options: CallOptions = {},
  ): Promise<MachineAction> {
    return this.exchange.send<MachineAction>(
      tenantId,
      "cancel",
      "POST",
      `/api/machineactions/${guidSegment(id)}/cancel`,
      {
        ...options,
        body: { Comment: comment },
      },
    );
  }

  /** One page of `GET /api/machineactions`; pass the previous page's nextLink to continue. */
  async listActions(
    tenantId: string,
    query: { filter?: string; top?: number; nextLink?: string },
    options: CallOptions = {},
  ): Promise<ActionPage> {
    let path = "/api/machineactions";
    if (query.nextLink) {
      path = this.sameOriginPath(query.nextLink);
    } else {
      const params = new URLSearchParams();
      if (query.filter) params.set("$filter", query.filter);
      if (query.top) params.set("$top", String(query.top));
      if (params.size > 0) path += `?${params.toString()}`;
    }
    const page = await this.exchange.send<{ value?: MachineAction[]; "@odata.nextLink"?: string }>(
      tenantId,
      "list",
      "GET",
      path,
      options,
    );
    return { actions: page.value ?? [], nextLink: page["@odata.nextLink"] };
  }

  /**
   * The state of many actions through `$filter=id in (...)` on the list endpoint's budget, in
   * checks of at most 40 ids and 2,048 characters of URL. A 414 (or a 400 naming the URL) halves
   * the check and sends its ids again. Ids Defender does not know are absent from the map (keyed
   * by lower-case id). A budget wait, a 429 or an error ends the call: the caller decides.
   */
  async checkActions(
    tenantId: string,
    ids: readonly string[],
    options: CallOptions = {},
  ): Promise<Map<string, MachineAction>> {
    const remaining = checkIds(ids);
    const asked = new Set(remaining);
    const found = new Map<string, MachineAction>();
    while (remaining.length > 0) {
      const size = firstBatchSize(this.options.baseUrl, remaining, this.checkLimits);
      try {
        const page = await this.exchange.send<{ value?: MachineAction[] }>(
          tenantId,
          "list",
          "GET",
          checkPath(remaining.slice(0, size)),
          options,
        );
        for (const action of page.value ?? []) {
          const id = String(action.id).toLowerCase();
          if (asked.has(id)) found.set(id, action);
        }
        remaining.splice(0, size);
      } catch (err) {
        if (!(err instanceof UrlTooLongError) || size === 1) throw err;
        this.checkLimits.maxIds = Math.floor(size / 2);
        this.options.logger.warn(
          { endpoint: "list", ids: size, maxIds: this.checkLimits.maxIds },
          "state check refused as too long; halving its batch",
        );
      }
    }
    return found;
  }

  /** nextLink is followed only on Defender's own host: the token must never travel elsewhere. */
  private sameOriginPath(link: string): string {
    const url = new URL(link, this.options.baseUrl);
    if (url.origin !== new URL(this.options.baseUrl).origin)
      throw new BadRequestError(`refusing to follow @odata.nextLink to another host (${url.origin})`);
    return url.pathname + url.search;
  }
}

/** Ids reach the URL only as validated GUIDs: `../machines/x/offboard` never becomes a path. */
function guidSegment(id: string): string {
  if (!isGuid(id)) throw new BadRequestError(`machine action id ${JSON.stringify(id)} is not a GUID`);
  return id.toLowerCase();
}
