import { type ActionStatus, isoUtc, type NewAction, TERMINAL_STATUSES } from "./machine-action.js";
import { pick, pickWeighted, type Rng, randomGuid, randomHex } from "./rng.js";

/**
 * A plausible tenant's history: mostly finished actions spread over a week, some still live, on a few
 * machines that each have several actions. Deterministic for a given rng, so failures reproduce.
 */
export function generateActions(n: number, rng: Rng, now: number): NewAction[] {
  const machines = Array.from({ length: Math.max(1, Math.ceil(n / 5)) }, (_, i) => ({
    id: randomHex(rng, 40),
    dns: `desk-${String(i + 1).padStart(4, "0")}.contoso.local`,
  }));
  return Array.from({ length: n }, () => {
    const machine = pick(rng, machines);
    const type = pickWeighted(rng, TYPE_WEIGHTS);
    const status = pickWeighted(rng, STATUS_WEIGHTS);
    // Live actions are recent; finished ones spread over the last week.
    const ageMs = Math.floor(rng() * (TERMINAL_STATUSES.has(status) ? 7 * 86_400_000 : 3_600_000));
    const created = now - ageMs;
    const updated = created + Math.floor(rng() * Math.min(ageMs, 600_000));
    const cancelled = status === "Cancelled";
    return {
      id: randomGuid(rng),
      type,
      scope: scopeFor(type, rng),
      requestor: rng() < 0.7 ? pick(rng, ANALYSTS) : randomGuid(rng),
      requestorComment: `${type} requested by playbook`,
      status,
      machineId: machine.id,
      computerDnsName: rng() < 0.05 ? null : machine.dns,
      creationDateTimeUtc: isoUtc(created),
      lastUpdateDateTimeUtc: isoUtc(updated),
      cancellationRequestor: cancelled ? pick(rng, ANALYSTS) : null,
      cancellationComment: cancelled ? "Cancelled by analyst" : null,
      cancellationDateTimeUtc: cancelled ? isoUtc(updated) : null,
      errorHResult: status === "Failed" ? -2147467259 : 0,
      relatedFileInfo:
        type === "StopAndQuarantineFile"
          ? { fileIdentifier: randomHex(rng, 40), fileIdentifierType: "Sha1" }
          : null,
      commands: type === "LiveResponse" ? [liveResponseCommand(status)] : [],
    };
  });
}

const STATUS_WEIGHTS: readonly (readonly [ActionStatus, number])[] = [
  ["Succeeded", 45],
  ["Pending", 15],
  ["InProgress", 10],
  ["Failed", 10],
  ["TimeOut", 5],
  ["Cancelled", 15],
];
const TYPE_WEIGHTS: readonly (readonly [string, number])[] = [
  ["RunAntiVirusScan", 30],
  ["Isolate", 15],
  ["Unisolate", 10],
  ["CollectInvestigationPackage", 15],
  ["LiveResponse", 15],
  ["StopAndQuarantineFile", 6],
  ["RestrictCodeExecution", 4],
  ["UnrestrictCodeExecution", 3],
  ["Offboard", 2],
];
const ANALYSTS = ["analyst@contoso.com", "soc-lead@contoso.com", "ir-team@contoso.com"];

function scopeFor(type: string, rng: Rng): string | null {
  if (type === "Isolate") return pick(rng, ["Full", "Selective"]);
  if (type === "RunAntiVirusScan") return pick(rng, ["Quick", "Full"]);
  return null;
}

function liveResponseCommand(status: ActionStatus): unknown {
  const commandStatus = status === "Succeeded" ? "Completed" : status === "Failed" ? "Failed" : "Created";
  return {
    index: 0,
    startTime: null,
    endTime: null,
    commandStatus,
    errors: [],
    command: { type: "RunScript", params: [{ key: "ScriptName", value: "collect.ps1" }] },
  };
}
