import type { RedisConnection } from "./connection.js";
import { defineScript, type LuaScript } from "./lua-script.js";

export const AUDIT_KINDS = ["request", "refusal", "outcome"] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/**
 * One audit record as a front door or the worker writes it: who asked, for what, and what came
 * of it. Never a key or secret: `apiKey` is the key's name.
 */
export interface AuditEntry {
  kind: AuditKind;
  requestedBy?: string | null;
  /** The API key's name (HTTP), never the key. */
  apiKey?: string | null;
  /** Where the request came from: the HTTP client's address, or `cli:<user>@<host>`. */
  client?: string | null;
  tenantId?: string | null;
  machineActionIds?: string[];
  jobId?: string;
  campaignId?: string;
  /** HTTP: the method and route, e.g. `POST /v1/cancels`. */
  route?: string;
  /**
   * request: added, already_queued or promoted (over HTTP: the HTTP status); refusal: the HTTP
   * status; outcome: Defender's status of the action.
   */
  status?: string | null;
  outcome?: string;
  reason?: string;
}

/** A stored record: `at` is when Redis appended it (Redis's clock, the one every host shares). */
export type AuditRecord = { at: string; id: string } & AuditEntry;

/** Who is asking, the same for every record of one request. */
export type AuditWho = Pick<AuditEntry, "requestedBy" | "apiKey" | "client">;

/** Where front doors and the worker append; `AuditLog.as` fills in who is asking. */
export interface AuditSink {
  append(entry: AuditEntry): Promise<void>;
}

/** Records a slice of a campaign's requests: the actions that got a job, and those already queued elsewhere. */
export async function auditSlice(
  sink: AuditSink | undefined,
  request: Pick<AuditEntry, "requestedBy" | "tenantId" | "campaignId">,
  ids: readonly string[],
  alreadyQueued: readonly string[],
): Promise<void> {
  const queued = new Set(alreadyQueued);
  const added = ids.filter((id) => !queued.has(id));
  if (added.length > 0)
    await sink?.append({ kind: "request", ...request, machineActionIds: added, status: "added" });
  if (queued.size > 0)
    await sink?.append({
      kind: "request",
      ...request,
      machineActionIds: [...queued],
      status: "already_queued",
    });
}

/** Trims by Redis's clock, so the retention holds whatever the clocks of the hosts appending say. */
const APPEND = `
-- KEYS: stream; ARGV: retentionMs, record (JSON)
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local oldest = string.format("%.0f", math.max(0, now - tonumber(ARGV[1])))
local id = redis.call("XADD", KEYS[1], "MINID", oldest, "*", "r", ARGV[2])
redis.call("PEXPIRE", KEYS[1], ARGV[1])
return id
`;

const PAGE = 500;

/**
 * The audit trail: append-only records in one Redis Stream per deployment, trimmed on every
 * append to AUDIT_RETENTION (and expiring whole when nothing is appended for that long).
 */
export class AuditLog implements AuditSink {
  private readonly key: string;
  private readonly appendScript: LuaScript<string>;

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    private readonly retentionMs: number,
  ) {
    this.key = `${prefix}:audit`;
    this.appendScript = defineScript(redis, "mdeAuditAppend", 1, APPEND);
  }

  async append(entry: AuditEntry): Promise<void> {
    await this.appendScript(this.key, this.retentionMs, JSON.stringify(entry));
  }

  /** A sink that fills in who is asking, for every record a front door writes on one request. */
  as(who: AuditWho): AuditSink {
    return {
      append: (entry) =>
        this.append({
          ...entry,
          requestedBy: entry.requestedBy ?? who.requestedBy ?? null,
          apiKey: entry.apiKey ?? who.apiKey ?? null,
          client: entry.client ?? who.client ?? null,
        }),
    };
  }

  /** Records oldest first, appended within the last `sinceMs` (all kept ones without it). */
  async *records(options: { sinceMs?: number; tenantId?: string } = {}): AsyncGenerator<AuditRecord> {
    let start = "-";
    if (options.sinceMs !== undefined) {
      const [seconds, micros] = await this.redis.time();
      start = String(
        Math.max(0, Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - options.sinceMs),
      );
    }
    const tenant = options.tenantId?.toLowerCase();
    for (;;) {
      const page = await this.redis.xrange(this.key, start, "+", "COUNT", PAGE);
      for (const [id, fields] of page) {
        const record = parse(id, fields);
        if (record && (!tenant || record.tenantId?.toLowerCase() === tenant)) yield record;
      }
      if (page.length < PAGE) return;
      start = `(${page[page.length - 1]?.[0]}`;
    }
  }
}

function parse(id: string, fields: string[]): AuditRecord | undefined {
  const i = fields.indexOf("r");
  const json = i < 0 ? undefined : fields[i + 1];
  if (json === undefined) return undefined;
  const at = new Date(Number(id.split("-")[0])).toISOString();
  // `at` first, for people reading the JSON lines.
  return { at, ...(JSON.parse(json) as AuditEntry), id };
}
