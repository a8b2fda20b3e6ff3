import type { CivilDate } from "@otmetka/service-kit";
import type { AbsenceReason, JournalRefJson } from "./events.js";
import type { Grading, MarkValue } from "./marks.js";

/** Who acts, as the command layer resolved it from the token and the replica. */
export interface Actor {
  id: string;
  /** SCHOOL_ADMIN of the journal's school, PLATFORM_ADMIN or SERVICE. */
  admin: boolean;
  /** Whether the actor teaches this journal on a date (assignment or substitute). */
  assignedOn(date: CivilDate): boolean;
  /** The first day of `first..last` the actor does not teach this journal (undefined: none). */
  firstDayNotAssigned(first: CivilDate, last: CivilDate): CivilDate | undefined;
}

/** The journal's identity and scale, from the replica. */
export interface JournalInfo {
  ref: JournalRefJson;
  grading: Grading;
}

/** A lesson as the curriculum replica knows it. */
export interface LessonFact {
  lessonId: string;
  classGroupId: string;
  subgroupId: string;
  subjectId: string;
  date: CivilDate;
  term: number;
  status: "SCHEDULED" | "CONDUCTED" | "CANCELLED" | "UNSCHEDULED";
}

/** A term of the school's term system for the journal's grade level, as curriculum defined it. */
export interface TermDates {
  term: number;
  firstDay: CivilDate;
  lastDay: CivilDate;
}

/** The school year's first and last lesson day, as curriculum's term systems tile it. */
export interface SchoolYear {
  firstDay: CivilDate;
  lastDay: CivilDate;
}

/** Whether a pupil belongs to the journal's class group (or subgroup) on the date in question. */
export type Enrollment = "enrolled" | "not_enrolled";

interface Base {
  journal: JournalInfo;
  actor: Actor;
  /** Today in the school's zone. */
  today: CivilDate;
}

/** RecordMark names its one mark `mark`; RecordMarks names each `marks[i]`, even a lone one. */
export type MarksField = "mark" | "marks";

export const markField = (field: MarksField, i: number) =>
  field === "mark" ? "mark" : `marks[${i}]`;

export interface NewMark {
  markId: string;
  studentId: string;
  value: string;
  workType: string;
  weight: number;
  noteId: string;
  enrollment: Enrollment;
}

export type JournalCommand =
  | (Base & {
      kind: "RecordMarks";
      lesson: LessonFact;
      marks: NewMark[];
      /** The request's field the marks came in: RecordMark's `mark`, RecordMarks' `marks[i]`. */
      field: MarksField;
    })
  | (Base & {
      kind: "CorrectMark";
      markId: string;
      value: string;
      reason: string;
      /** Where the command layer saved the reason (the event names it, not the text). */
      reasonNoteId: string;
    })
  | (Base & { kind: "RevokeMark"; markId: string; reason: string; reasonNoteId: string })
  | (Base & {
      kind: "GrantExemption";
      exemptionId: string;
      studentId: string;
      firstDay: CivilDate;
      lastDay: CivilDate;
      reason: string;
      reasonNoteId: string;
      /** On first_day. */
      enrollment: Enrollment;
      /** The first later day of the period the pupil is not in the journal (null: none). */
      notEnrolledFrom: CivilDate | null;
      /**
       * The journal's terms as the replica knows them ([] when it knows none): a closed term
       * is a number in the state, and only these dates say which days it holds.
       */
      terms: readonly TermDates[];
      /** The journal's school year as the replica knows it (null until a term system of it arrives). */
      year: SchoolYear | null;
    })
  | (Base & {
      kind: "RecordAttendance";
      lesson: LessonFact;
      entries: {
        studentId: string;
        reason: AbsenceReason | string;
        lateMinutes: number;
        enrollment: Enrollment;
      }[];
    })
  | (Base & {
      kind: "ExcuseAbsence";
      /**
       * As the replica knows it: whether it is the journal's, and its date when no attendance was
       * taken for it (else the attendance's own date says whether the actor may excuse).
       */
      lesson: LessonFact;
      studentId: string;
      noteId: string;
    })
  | (Base & {
      kind: "SetTermMark";
      studentId: string;
      term: number;
      value: string;
      reason: string;
      reasonNoteId: string;
      /** On `termMarkRollDay` (any day of the year when that is null). */
      enrollment: Enrollment;
      /**
       * For a whole-class journal, the subgroup of its subject the pupil is in on that day
       * (null: none, a subgroup journal, or no term dates known).
       */
      inSubgroup: string | null;
      /** The terms of the journal's grade level as the replica knows them ([] when it knows none). */
      terms: readonly TermDates[];
    })
  | (Base & {
      kind: "CloseTerm" | "ReopenTerm";
      term: number;
      reason: string;
      /** As for SetTermMark: the journal's terms ([] when the replica knows none). */
      terms: readonly TermDates[];
    });

export type { MarkValue };
