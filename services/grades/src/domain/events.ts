/*
 * Event payloads in the proto3 JSON shape of proto/otmetka/grades/events/v1/events.proto
 * (camelCase fields, enum names as strings); events.unit.test.ts checks them against the codec.
 */
import type { CivilDate } from "@otmetka/service-kit";
import type { MarkValue } from "./marks.js";

export const EVENT_TYPE_PREFIX = "grades.v1.";

export type AbsenceReason =
  | "ABSENCE_REASON_NONE"
  | "ABSENCE_REASON_ILLNESS"
  | "ABSENCE_REASON_EXCUSED"
  | "ABSENCE_REASON_UNEXCUSED";

export interface JournalRefJson {
  journalId: string;
  schoolId: string;
  municipalityId: string;
  academicYear: { startYear: number };
  classGroupId: string;
  /** "" when the whole class group is taught. */
  subgroupId: string;
  subjectId: string;
}

interface OfJournal {
  schoolId: string;
  municipalityId: string;
  journal: JournalRefJson;
}

export interface MarkRecorded extends OfJournal {
  markId: string;
  lessonId: string;
  lessonDate: CivilDate;
  term: number;
  studentId: string;
  value: MarkValue;
  workType: string;
  weight: number;
  authorId: string;
  noteId: string;
}

export interface MarkCorrected extends OfJournal {
  markId: string;
  studentId: string;
  value: MarkValue;
  /** Empty since reasons went to the notes table (older events hold the text). */
  reason: string;
  /** The reason in the notes table (erasable). */
  reasonNoteId?: string;
  authorId: string;
  inClosedTerm: boolean;
}

export interface MarkRevoked extends OfJournal {
  markId: string;
  studentId: string;
  /** Empty since reasons went to the notes table (older events hold the text). */
  reason: string;
  /** The reason in the notes table (erasable). */
  reasonNoteId?: string;
  authorId: string;
  inClosedTerm: boolean;
}

export interface ExemptionGranted extends OfJournal {
  exemptionId: string;
  studentId: string;
  firstDay: CivilDate;
  lastDay: CivilDate;
  /** Empty since reasons went to the notes table (older events hold the text). */
  reason: string;
  /** The reason in the notes table (erasable). */
  reasonNoteId?: string;
  authorId: string;
  /** A school admin granted it over days of a closed term. */
  inClosedTerm: boolean;
}

export interface AttendanceEntry {
  studentId: string;
  reason: AbsenceReason;
  lateMinutes: number;
}

export interface AttendanceRecorded extends OfJournal {
  lessonId: string;
  lessonDate: CivilDate;
  term: number;
  entries: AttendanceEntry[];
  authorId: string;
}

export interface AbsenceExcused extends OfJournal {
  lessonId: string;
  studentId: string;
  noteId: string;
  authorId: string;
}

export interface TermMarkSet extends OfJournal {
  studentId: string;
  term: number;
  value: MarkValue;
  weightedAverage: string;
  authorId: string;
}

export interface TermMarkCorrected extends OfJournal {
  studentId: string;
  term: number;
  value: MarkValue;
  /** Empty since reasons went to the notes table (older events hold the text). */
  reason: string;
  /** The reason in the notes table (erasable). */
  reasonNoteId?: string;
  authorId: string;
  inClosedTerm: boolean;
}

export interface TermClosed extends OfJournal {
  term: number;
  reason: string;
  authorId: string;
}

export type TermReopened = TermClosed;

export interface WorkTypeWeightsSet {
  schoolId: string;
  municipalityId: string;
  weights: { workType: string; weight: number }[];
  authorId: string;
}

export interface GradesEvents {
  MarkRecorded: MarkRecorded;
  MarkCorrected: MarkCorrected;
  MarkRevoked: MarkRevoked;
  ExemptionGranted: ExemptionGranted;
  AttendanceRecorded: AttendanceRecorded;
  AbsenceExcused: AbsenceExcused;
  TermMarkSet: TermMarkSet;
  TermMarkCorrected: TermMarkCorrected;
  TermClosed: TermClosed;
  TermReopened: TermReopened;
  WorkTypeWeightsSet: WorkTypeWeightsSet;
}

export type GradesEventName = keyof GradesEvents;

export function newEvent<N extends GradesEventName>(name: N, data: GradesEvents[N]) {
  return { type: `${EVENT_TYPE_PREFIX}${name}`, data };
}

export const eventName = (type: string) => type.slice(EVENT_TYPE_PREFIX.length) as GradesEventName;
