import type { Scope } from "./deltas.js";

export type Data = Record<string, unknown>;
export const str = (d: Data, k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
export const int = (d: Data, k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0);
export const obj = (d: Data, k: string) => (d[k] && typeof d[k] === "object" ? (d[k] as Data) : {});
export const yearOf = (d: Data) => int(obj(d, "academicYear"), "startYear");

/** The class group (its id under `classGroupKey`), school and municipality an event names. */
export const scopeOf = (d: Data, classGroupKey = "classGroupId"): Scope => ({
  classGroupId: str(d, classGroupKey),
  schoolId: str(d, "schoolId"),
  municipalityId: str(d, "municipalityId"),
});

/** The journal a grades event belongs to (JournalRef). */
export interface Journal {
  readonly journalId: string;
  readonly startYear: number;
  readonly subjectId: string;
  readonly subgroupId: string;
  readonly scope: Scope;
}

export function journalOf(d: Data): Journal {
  const j = obj(d, "journal");
  return {
    journalId: str(j, "journalId"),
    startYear: yearOf(j),
    subjectId: str(j, "subjectId"),
    subgroupId: str(j, "subgroupId"),
    scope: {
      classGroupId: str(j, "classGroupId"),
      schoolId: str(j, "schoolId") || str(d, "schoolId"),
      municipalityId: str(j, "municipalityId") || str(d, "municipalityId"),
    },
  };
}

const MARK_VALUES: Record<string, string> = {
  MARK_VALUE_ONE: "1",
  MARK_VALUE_TWO: "2",
  MARK_VALUE_THREE: "3",
  MARK_VALUE_FOUR: "4",
  MARK_VALUE_FIVE: "5",
  MARK_VALUE_PASS: "PASS",
  MARK_VALUE_FAIL: "FAIL",
  MARK_VALUE_NOT_ATTESTED: "NOT_ATTESTED",
};

/** The stored form of a mark value ("1".."5", PASS, FAIL, NOT_ATTESTED), or null for an unknown one. */
export const markValue = (d: Data) => MARK_VALUES[str(d, "value")] ?? null;

const REASONS: Record<string, string> = {
  ABSENCE_REASON_NONE: "NONE",
  ABSENCE_REASON_ILLNESS: "ILLNESS",
  ABSENCE_REASON_EXCUSED: "EXCUSED",
  ABSENCE_REASON_UNEXCUSED: "UNEXCUSED",
};
export const absenceReason = (v: unknown) => REASONS[typeof v === "string" ? v : ""] ?? "NONE";

// Making a DateTimeFormat costs far more than using one: one per zone.
const formats = new Map<string, Intl.DateTimeFormat | null>();

function formatFor(timeZone: string): Intl.DateTimeFormat | null {
  if (!formats.has(timeZone)) {
    try {
      const options = { timeZone, year: "numeric", month: "2-digit", day: "2-digit" } as const;
      formats.set(timeZone, new Intl.DateTimeFormat("en-CA", options));
    } catch {
      formats.set(timeZone, null);
    }
  }
  return formats.get(timeZone) ?? null;
}

// Events of one minute share their civil date (zone offsets are whole minutes): formatting
// once per zone and minute keeps Intl off the per-event path.
const dates = new Map<string, string>();

/** The civil date of an instant in the school's zone (when an entry was made); UTC for an unknown zone. */
export function civilDate(instant: string, timeZone: string): string {
  // An event's time is asked for twice in a row (the clock's zone, the school's).
  if (instant === last.instant && timeZone === last.zone) return last.civil;
  const civil = civilDateOf(instant, timeZone);
  last = { instant, zone: timeZone, civil };
  return civil;
}
let last = { instant: "", zone: "", civil: "" };

function civilDateOf(instant: string, timeZone: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant.slice(0, 10);
  const key = `${timeZone}|${Math.floor(ms / 60_000)}`;
  const known = dates.get(key);
  if (known) return known;
  const f = formatFor(timeZone);
  const civil = f ? f.format(new Date(ms)) : new Date(ms).toISOString().slice(0, 10);
  if (dates.size > 10_000) dates.clear();
  dates.set(key, civil);
  return civil;
}
