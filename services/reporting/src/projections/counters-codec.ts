import type { AllSubjectsCounters } from "../domain/metrics/all-subjects.js";
import type { AttendanceCounters } from "../domain/metrics/attendance.js";
import {
  emptyJournal,
  type JournalCounters,
  MAX_TRACKED_DELAY,
} from "../domain/metrics/journal-fill.js";
import type { PerformanceCounters } from "../domain/metrics/performance.js";

/*
 * Counters are stored as bigint[] in a fixed order, so that PostgreSQL adds a batch's deltas
 * element-wise in one upsert (no read-modify-write round trip per row).
 */
export function perfToArray(c: PerformanceCounters): number[] {
  return [
    c.onRoll,
    c.exempt,
    c.noMarks,
    ...c.n.slice(1),
    c.nPass,
    c.nFail,
    c.nNotAttested,
    c.nNotAttestedPassFail,
    ...c.marks.slice(1),
    c.passEntries,
    c.failEntries,
    c.notAttestedEntries,
    c.sumMarks,
    c.sumWeighted,
    c.sumWeights,
  ];
}

export function perfFromArray(a: readonly number[]): PerformanceCounters {
  const v = (i: number) => Number(a[i] ?? 0);
  return {
    onRoll: v(0),
    exempt: v(1),
    noMarks: v(2),
    n: [0, v(3), v(4), v(5), v(6), v(7)],
    nPass: v(8),
    nFail: v(9),
    nNotAttested: v(10),
    nNotAttestedPassFail: v(11),
    marks: [0, v(12), v(13), v(14), v(15), v(16)],
    passEntries: v(17),
    failEntries: v(18),
    notAttestedEntries: v(19),
    sumMarks: v(20),
    sumWeighted: v(21),
    sumWeights: v(22),
  };
}

export const standingToArray = (c: AllSubjectsCounters) => [c.counted, c.passing, c.quality];
export const standingFromArray = (a: readonly number[]): AllSubjectsCounters => ({
  counted: Number(a[0] ?? 0),
  passing: Number(a[1] ?? 0),
  quality: Number(a[2] ?? 0),
});

const ATTENDANCE_KEYS: (keyof AttendanceCounters)[] = [
  "scheduledPupilLessons",
  "missedIllness",
  "missedExcused",
  "missedUnexcused",
  "daysIllness",
  "daysExcused",
  "daysUnexcused",
  "lateArrivals",
  "lateMinutes",
];

export const attendanceToArray = (c: AttendanceCounters) => ATTENDANCE_KEYS.map((k) => c[k]);
export function attendanceFromArray(a: readonly number[]): AttendanceCounters {
  const c = {} as AttendanceCounters;
  ATTENDANCE_KEYS.forEach((k, i) => {
    c[k] = Number(a[i] ?? 0);
  });
  return c;
}

export const journalToArray = (c: JournalCounters) => [
  c.lessonsScheduled,
  c.lessonsFilled,
  ...c.delays,
  // Appended after the delays, so rows written before it read as 0.
  c.lessonsDelivered,
];
export function journalFromArray(a: readonly number[]): JournalCounters {
  const c = emptyJournal();
  c.lessonsScheduled = Number(a[0] ?? 0);
  c.lessonsFilled = Number(a[1] ?? 0);
  for (let d = 0; d <= MAX_TRACKED_DELAY; d++) c.delays[d] = Number(a[2 + d] ?? 0);
  c.lessonsDelivered = Number(a[3 + MAX_TRACKED_DELAY] ?? 0);
  return c;
}
