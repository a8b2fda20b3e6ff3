import type { Scope } from "./deltas.js";

export type Data = Record<string, unknown>;
export const str = (d: Data, k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
export const int = (d: Data, k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0);
export const obj = (d: Data, k: string) => (d[k] && typeof d[k] === "object" ? (d[k] as Data) : {});
export const yearOf = (d: Data) => int(obj(d, "academicYear"), "startYear");

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

/** The civil date of an instant in the school's zone (when an entry was made). */
export function civilDate(instant: string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(new Date(instant));
  } catch {
    return instant.slice(0, 10);
  }
}
