import {
  type AllSubjectsCounters,
  addToStanding,
  classify,
  countStanding,
  emptyAllSubjects,
  emptyStanding,
} from "./all-subjects.js";
import {
  type AbsenceReason,
  type AttendanceCounters,
  countDay,
  countMissed,
  emptyAttendance,
  emptyDay,
  fullDayReason,
  type PupilDay,
} from "./attendance.js";
import { dayNumber } from "./civil-date.js";
import type { ResultBasis } from "./definitions.js";
import { countDelay, emptyJournal, type JournalCounters } from "./journal-fill.js";
import {
  countEntry,
  countResult,
  emptyPerformance,
  type PerformanceCounters,
} from "./performance.js";
import { type PupilSubjectFacts, pupilResult } from "./pupil-result.js";
import { checkEntry } from "./values.js";

/*
 * Counters straight from raw facts: the reference the incremental read models are checked
 * against, and what the formula tests feed with hand-computed fixtures.
 */

export interface PupilFacts {
  readonly studentId: string;
  /** On the population's roll on the last day of the period (withdrawn/transferred-out pupils are not). */
  readonly onRollAtEnd: boolean;
  readonly subjects: Readonly<Record<string, PupilSubjectFacts>>;
}

export interface PerformanceByPopulation {
  readonly bySubject: Map<string, PerformanceCounters>;
  readonly allSubjects: AllSubjectsCounters;
}

/**
 * Pupil-level figures count the pupils on roll at the end; every entry recorded in the
 * population's journals in the period counts in the mark-level figures (average, weighted
 * average, per-mark quality), also a leaver's.
 */
export function performanceFromFacts(
  pupils: readonly PupilFacts[],
  basis: ResultBasis,
): PerformanceByPopulation {
  const bySubject = new Map<string, PerformanceCounters>();
  const allSubjects = emptyAllSubjects();
  pupils.forEach((p, i) => {
    const standing = emptyStanding();
    for (const [subjectId, facts] of Object.entries(p.subjects)) {
      const c = bySubject.get(subjectId) ?? emptyPerformance();
      bySubject.set(subjectId, c);
      facts.entries.forEach((e, j) => {
        checkEntry(e, `pupils[${i}].subjects.${subjectId}.entries[${j}]`);
        countEntry(c, e);
      });
      if (!p.onRollAtEnd) continue;
      const r = pupilResult(facts, basis);
      countResult(c, r);
      addToStanding(standing, r);
    }
    if (p.onRollAtEnd) countStanding(allSubjects, classify(standing));
  });
  return { bySubject, allSubjects };
}

export interface LessonAttendanceFacts {
  readonly date: string;
  /** The pupils the lesson was for (enrolled on the date, in the subgroup if any). */
  readonly pupils: readonly string[];
  readonly absences: readonly {
    readonly studentId: string;
    readonly reason: AbsenceReason | "NONE";
    readonly lateMinutes?: number;
  }[];
}

export function attendanceFromFacts(lessons: readonly LessonAttendanceFacts[]): AttendanceCounters {
  const c = emptyAttendance();
  const days = new Map<string, PupilDay>();
  const dayOf = (studentId: string, date: string) => {
    const key = `${studentId}|${date}`;
    const d = days.get(key) ?? emptyDay();
    days.set(key, d);
    return d;
  };
  lessons.forEach((l, i) => {
    dayNumber(l.date, `lessons[${i}].date`);
    c.scheduledPupilLessons += l.pupils.length;
    for (const p of l.pupils) dayOf(p, l.date).lessons += 1;
    for (const a of l.absences) {
      if ((a.lateMinutes ?? 0) > 0) {
        c.lateArrivals += 1;
        c.lateMinutes += a.lateMinutes ?? 0;
      }
      if (a.reason === "NONE") continue;
      countMissed(c, a.reason);
      const d = dayOf(a.studentId, l.date);
      if (a.reason === "ILLNESS") d.illness += 1;
      else if (a.reason === "EXCUSED") d.excused += 1;
      else d.unexcused += 1;
    }
  });
  for (const d of days.values()) countDay(c, fullDayReason(d));
  return c;
}

export interface LessonFillFacts {
  readonly date: string;
  readonly attendanceTaken: boolean;
  readonly topicRecorded: boolean;
}

export interface EntryTiming {
  readonly lessonDate: string;
  readonly recordedDate: string;
}

export function journalFromFacts(
  lessons: readonly LessonFillFacts[],
  entries: readonly EntryTiming[],
): JournalCounters {
  const c = emptyJournal();
  lessons.forEach((l, i) => {
    dayNumber(l.date, `lessons[${i}].date`);
    c.lessonsScheduled += 1;
    if (l.attendanceTaken && l.topicRecorded) c.lessonsFilled += 1;
  });
  entries.forEach((e, i) => {
    const delay =
      dayNumber(e.recordedDate, `entries[${i}].recordedDate`) -
      dayNumber(e.lessonDate, `entries[${i}].lessonDate`);
    countDelay(c, delay);
  });
  return c;
}
