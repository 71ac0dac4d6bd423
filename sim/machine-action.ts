/** The MachineAction entity as Defender serialises it, and the vocabulary around it. */

export const ACTION_STATUSES = [
  "Pending",
  "InProgress",
  "Succeeded",
  "Failed",
  "TimeOut",
  "Cancelled",
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<ActionStatus> = new Set([
  "Succeeded",
  "Failed",
  "TimeOut",
  "Cancelled",
]);

export const ACTION_TYPES = [
  "RunAntiVirusScan",
  "Offboard",
  "LiveResponse",
  "CollectInvestigationPackage",
  "Isolate",
  "Unisolate",
  "StopAndQuarantineFile",
  "RestrictCodeExecution",
  "UnrestrictCodeExecution",
] as const;

/** A machine action exactly as Defender serialises it (nullable fields are null, never absent). */
export interface MachineAction {
  id: string;
  type: string;
  scope: string | null;
  requestor: string;
  requestorComment: string | null;
  status: ActionStatus;
  machineId: string;
  computerDnsName: string | null;
  creationDateTimeUtc: string;
  lastUpdateDateTimeUtc: string;
  cancellationRequestor: string | null;
  cancellationComment: string | null;
  cancellationDateTimeUtc: string | null;
  errorHResult: number;
  externalId: string | null;
  requestSource: string;
  relatedFileInfo: { fileIdentifier: string; fileIdentifierType: "Sha1" | "Sha256" | "Md5" } | null;
  commands: unknown[];
  troubleshootInfo: null;
  title: string | null;
}

/** What `add` accepts: any entity fields, plus when (epoch ms) the action becomes readable. */
export type NewAction = Partial<MachineAction> & { visibleAfter?: number };

/** Defender writes 7 fractional digits; clients must not assume JavaScript's 3. */
export const isoUtc = (ms: number): string => new Date(ms).toISOString().replace("Z", "0000Z");
