import { AccessRecord } from "@otmetka/proto/audit/v1/access_record";

/** One access record as stored: ids normalised, pupils de-duplicated. */
export interface AuditRecord {
  recordId: string;
  occurredAt: Date;
  actorAccountId: string;
  actorPersonId: string | null;
  actorRole: string;
  operation: string;
  correlationId: string;
  pupilIds: string[];
}

/** Why a message cannot become a record; the consumer terminates such messages. */
export class InvalidAccessRecord extends Error {
  override readonly name = "InvalidAccessRecord";
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Limits that keep one malformed publisher from filling a partition with junk. */
const MAX_TEXT = 200;
const MAX_PUPILS = 10_000;
/** A record stamped further ahead than this (publisher clock skew) is refused. */
export const MAX_FUTURE_SKEW_MS = 24 * 3600_000;

function uuid(field: string, raw: string): string {
  if (!UUID.test(raw)) throw new InvalidAccessRecord(field, "must be a UUID");
  return raw.toLowerCase();
}

function text(field: string, raw: string, required: boolean): string {
  if (required && raw.trim() === "") throw new InvalidAccessRecord(field, "is required");
  if (raw.length > MAX_TEXT) throw new InvalidAccessRecord(field, `at most ${MAX_TEXT} characters`);
  // COPY's text format and logs stay safe: no control characters.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
  if (/[\u0000-\u001f\u007f]/.test(raw)) {
    throw new InvalidAccessRecord(field, "must not contain control characters");
  }
  return raw;
}

/** Validates a decoded AccessRecord; `now` bounds occurred_at from above. */
export function toAuditRecord(r: AccessRecord, now: Date): AuditRecord {
  const occurredAt = r.occurredAt;
  if (!occurredAt || Number.isNaN(occurredAt.getTime())) {
    throw new InvalidAccessRecord("occurred_at", "is required");
  }
  if (occurredAt.getTime() > now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw new InvalidAccessRecord("occurred_at", "must not be more than a day in the future");
  }
  if (r.pupilPersonIds.length > MAX_PUPILS) {
    throw new InvalidAccessRecord("pupil_person_ids", `at most ${MAX_PUPILS} ids`);
  }
  return {
    recordId: uuid("record_id", r.recordId),
    occurredAt,
    actorAccountId: uuid("actor_account_id", r.actorAccountId),
    actorPersonId: r.actorPersonId === "" ? null : uuid("actor_person_id", r.actorPersonId),
    actorRole: text("actor_role", r.actorRole, true),
    operation: text("operation", r.operation, true),
    correlationId: text("correlation_id", r.correlationId, false),
    pupilIds: [...new Set(r.pupilPersonIds.map((p) => uuid("pupil_person_ids", p)))],
  };
}

/** Decodes and validates one message body. */
export function decodeAuditRecord(data: Uint8Array, now: Date): AuditRecord {
  let decoded: AccessRecord;
  try {
    decoded = AccessRecord.decode(data);
  } catch {
    throw new InvalidAccessRecord("message", "is not a protobuf AccessRecord");
  }
  return toAuditRecord(decoded, now);
}

/** The message body a publisher (the gateway, tests, the bench) sends. */
export function encodeAccessRecord(r: AccessRecord): Uint8Array {
  return AccessRecord.encode(r).finish();
}
