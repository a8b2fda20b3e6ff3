/*
 * Event payloads in the proto3 JSON shape of proto/otmetka/curriculum/events/v1/events.proto
 * (camelCase fields, enum names as strings); events.unit.test.ts checks each against the codec.
 */
import type { CivilDate } from "@otmetka/service-kit";

export const EVENT_TYPE_PREFIX = "curriculum.v1.";

export type TermKind = "TERM_KIND_QUARTER" | "TERM_KIND_TRIMESTER" | "TERM_KIND_HALF_YEAR";
export type NonSchoolDayKind = "NON_SCHOOL_DAY_KIND_HOLIDAY" | "NON_SCHOOL_DAY_KIND_DAY_OFF";
export type Grading = "GRADING_FIVE_POINT" | "GRADING_PASS_FAIL";

export interface AcademicYearJson {
  startYear: number;
}

export interface SchoolScoped {
  schoolId: string;
  municipalityId: string;
}

export interface AcademicYearDefined extends SchoolScoped {
  academicYear: AcademicYearJson;
  firstDay: CivilDate;
  lastDay: CivilDate;
  daysPerWeek: number;
  timeZone: string;
}

export interface TermDates {
  number: number;
  firstDay: CivilDate;
  lastDay: CivilDate;
}

export interface TermSystemDefined extends SchoolScoped {
  academicYear: AcademicYearJson;
  gradeLevels: number[];
  kind: TermKind;
  terms: TermDates[];
}

export interface GradeWeekLengthSet extends SchoolScoped {
  academicYear: AcademicYearJson;
  gradeLevels: number[];
  daysPerWeek: number;
}

export interface NonSchoolDaysDeclared extends SchoolScoped {
  academicYear: AcademicYearJson;
  firstDay: CivilDate;
  lastDay: CivilDate;
  kind: NonSchoolDayKind;
  name: string;
}

export interface SubjectAdded {
  subjectId: string;
  code: string;
  name: string;
  grading: Grading;
  /** "" for a regional subject. */
  schoolId: string;
  municipalityId: string;
}

interface YearScoped extends SchoolScoped {
  academicYear: AcademicYearJson;
}

export interface TeacherAssigned extends YearScoped {
  assignmentId: string;
  teacherId: string;
  subjectId: string;
  classGroupId: string;
  /** "" when the whole class group is taught. */
  subgroupId: string;
}

/** The assignment's teacher teaches it up to `lastDay` (inclusive) only. */
export interface TeacherAssignmentEnded extends TeacherAssigned {
  lastDay: CivilDate;
}

export interface SubstituteAssigned extends YearScoped {
  assignmentId: string;
  substituteId: string;
  firstDay: CivilDate;
  lastDay: CivilDate;
}

export interface TimetableSlotAdded extends YearScoped {
  slotId: string;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  period: number;
  classGroupId: string;
  subgroupId: string;
  gradeLevel: number;
  subjectId: string;
  teacherId: string;
  room: string;
  validFrom: CivilDate;
  validTo: CivilDate;
}

export interface TimetableSlotEnded extends YearScoped {
  slotId: string;
  /** The slot's last day; before its first day it never applies. */
  lastDay: CivilDate;
}

/** What every lesson event carries, so grades and reporting can keep replicas. */
export interface LessonFacts extends YearScoped {
  lessonId: string;
  classGroupId: string;
  subgroupId: string;
  subjectId: string;
  teacherId: string;
  date: CivilDate;
  period: number;
}

export interface LessonScheduled extends LessonFacts {
  slotId: string;
  term: number;
  room: string;
}

export interface LessonUnscheduled extends LessonFacts {
  reason: string;
}

export interface LessonConducted extends LessonFacts {
  topic: string;
  /** The work-programme item taught, when known ("" otherwise). */
  workProgrammeItemId: string;
  homework: string;
  homeworkDue: CivilDate | "";
  /** Who actually taught (may differ from the scheduled teacher). */
  conductedBy: string;
}

export interface LessonCancelled extends LessonFacts {
  reason: string;
}

export interface LessonMoved extends LessonFacts {
  /** The new date and period (`date`/`period` are the old ones). */
  toDate: CivilDate;
  toPeriod: number;
  toTerm: number;
}

export interface PlannedLesson {
  /** Stable within the programme: `v<version>.<n>`. */
  itemId: string;
  topic: string;
  hours: number;
}

export interface WorkProgrammeDrafted extends YearScoped {
  programmeId: string;
  subjectId: string;
  gradeLevel: number;
  version: number;
  items: PlannedLesson[];
  authorId: string;
}

export interface WorkProgrammeApproved extends YearScoped {
  programmeId: string;
  subjectId: string;
  gradeLevel: number;
  version: number;
  approvedBy: string;
}

export interface StudyPlanHoursSet extends YearScoped {
  gradeLevel: number;
  subjectId: string;
  /** Lessons a week; 0 takes the subject out of the plan. */
  hoursPerWeek: number;
}

export interface LessonTeacherChanged extends LessonFacts {
  /** `teacherId` is the previous teacher. */
  newTeacherId: string;
}

export interface CurriculumEvents {
  LessonTeacherChanged: LessonTeacherChanged;
  StudyPlanHoursSet: StudyPlanHoursSet;
  WorkProgrammeDrafted: WorkProgrammeDrafted;
  WorkProgrammeApproved: WorkProgrammeApproved;
  LessonScheduled: LessonScheduled;
  LessonUnscheduled: LessonUnscheduled;
  LessonConducted: LessonConducted;
  LessonCancelled: LessonCancelled;
  LessonMoved: LessonMoved;
  TeacherAssigned: TeacherAssigned;
  TeacherAssignmentEnded: TeacherAssignmentEnded;
  SubstituteAssigned: SubstituteAssigned;
  TimetableSlotAdded: TimetableSlotAdded;
  TimetableSlotEnded: TimetableSlotEnded;
  AcademicYearDefined: AcademicYearDefined;
  TermSystemDefined: TermSystemDefined;
  GradeWeekLengthSet: GradeWeekLengthSet;
  NonSchoolDaysDeclared: NonSchoolDaysDeclared;
  SubjectAdded: SubjectAdded;
}

export type CurriculumEventName = keyof CurriculumEvents;

export function newEvent<N extends CurriculumEventName>(name: N, data: CurriculumEvents[N]) {
  return { type: `${EVENT_TYPE_PREFIX}${name}`, data };
}

/** The name of a stored curriculum event type (`curriculum.v1.X` -> `X`). */
export const eventName = (type: string) => type.slice(EVENT_TYPE_PREFIX.length);
