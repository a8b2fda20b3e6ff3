import type { AllSubjectsCounters } from "../domain/metrics/all-subjects.js";
import type { AttendanceCounters } from "../domain/metrics/attendance.js";
import type { ResultBasis } from "../domain/metrics/definitions.js";
import {
  emptyJournal,
  type JournalCounters,
  MAX_TRACKED_DELAY,
} from "../domain/metrics/journal-fill.js";
import type { PerformanceCounters } from "../domain/metrics/performance.js";

/*
 * Counters are stored as bigint[] in a fixed order, so that PostgreSQL adds a batch's deltas
 * element-wise in one upsert (no read-modify-write round trip per row).
 *
 * One perf row holds both result bases (projection version 5; a row per basis doubled the
 * rows every mark upserts): the entry counters, which do not depend on the basis, once, then
 * the pupil-result counters of CURRENT, then those of PERIOD_MARKS. A standing row likewise
 * holds CURRENT's three counters, then PERIOD_MARKS'.
 */
const ENTRY_WIDTH = 11;
const RESULT_WIDTH = 12;
export const PERF_WIDTH = ENTRY_WIDTH + 2 * RESULT_WIDTH;
export const STANDING_WIDTH = 6;

const resultOffset = (basis: ResultBasis) =>
  basis === "CURRENT" ? ENTRY_WIDTH : ENTRY_WIDTH + RESULT_WIDTH;
const standingOffset = (basis: ResultBasis) => (basis === "CURRENT" ? 0 : 3);

/** One perf row's deltas: entries (marks recorded) and each basis's pupil results. */
export interface PerfRowCounters {
  entries?: PerformanceCounters;
  CURRENT?: PerformanceCounters;
  PERIOD_MARKS?: PerformanceCounters;
}

const entryPart = (c: PerformanceCounters) => [
  ...c.marks.slice(1),
  c.passEntries,
  c.failEntries,
  c.notAttestedEntries,
  c.sumMarks,
  c.sumWeighted,
  c.sumWeights,
];

const resultPart = (c: PerformanceCounters) => [
  c.onRoll,
  c.exempt,
  c.noMarks,
  ...c.n.slice(1),
  c.nPass,
  c.nFail,
  c.nNotAttested,
  c.nNotAttestedPassFail,
];

const zeros = (n: number): number[] => new Array(n).fill(0);

export function perfRowToArray(r: PerfRowCounters): number[] {
  return [
    ...(r.entries ? entryPart(r.entries) : zeros(ENTRY_WIDTH)),
    ...(r.CURRENT ? resultPart(r.CURRENT) : zeros(RESULT_WIDTH)),
    ...(r.PERIOD_MARKS ? resultPart(r.PERIOD_MARKS) : zeros(RESULT_WIDTH)),
  ];
}

/** The counters of one basis from a perf row (entries are the same under both bases). */
export function perfFromArray(a: readonly number[], basis: ResultBasis): PerformanceCounters {
  const v = (i: number) => Number(a[i] ?? 0);
  const r = resultOffset(basis);
  return {
    onRoll: v(r),
    exempt: v(r + 1),
    noMarks: v(r + 2),
    n: [0, v(r + 3), v(r + 4), v(r + 5), v(r + 6), v(r + 7)],
    nPass: v(r + 8),
    nFail: v(r + 9),
    nNotAttested: v(r + 10),
    nNotAttestedPassFail: v(r + 11),
    marks: [0, v(0), v(1), v(2), v(3), v(4)],
    passEntries: v(5),
    failEntries: v(6),
    notAttestedEntries: v(7),
    sumMarks: v(8),
    sumWeighted: v(9),
    sumWeights: v(10),
  };
}

/** One standing row's deltas per basis. */
export type StandingRowCounters = Partial<Record<ResultBasis, AllSubjectsCounters>>;

const standingPart = (c: AllSubjectsCounters | undefined) =>
  c ? [c.counted, c.passing, c.quality] : [0, 0, 0];

export const standingRowToArray = (r: StandingRowCounters): number[] => [
  ...standingPart(r.CURRENT),
  ...standingPart(r.PERIOD_MARKS),
];

export function standingFromArray(a: readonly number[], basis: ResultBasis): AllSubjectsCounters {
  const o = standingOffset(basis);
  return {
    counted: Number(a[o] ?? 0),
    passing: Number(a[o + 1] ?? 0),
    quality: Number(a[o + 2] ?? 0),
  };
}

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
