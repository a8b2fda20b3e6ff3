import { DEFINITIONS } from "./definitions.js";
import { type Figure, ratio } from "./figure.js";

export type AbsenceReason = "ILLNESS" | "EXCUSED" | "UNEXCUSED";

/** A pupil's day: how many of their lessons were scheduled and how many were missed, by reason. */
export interface PupilDay {
  lessons: number;
  illness: number;
  excused: number;
  unexcused: number;
}

export const emptyDay = (): PupilDay => ({ lessons: 0, illness: 0, excused: 0, unexcused: 0 });

/**
 * A missed full day is a day on which every lesson of the pupil was missed. Its reason:
 * unexcused if any lesson was, illness if every lesson was, otherwise excused.
 */
export function fullDayReason(d: PupilDay): AbsenceReason | null {
  const missed = d.illness + d.excused + d.unexcused;
  if (d.lessons === 0 || missed < d.lessons) return null;
  if (d.unexcused > 0) return "UNEXCUSED";
  return d.illness === d.lessons ? "ILLNESS" : "EXCUSED";
}

export interface AttendanceCounters {
  /** Pupil-lessons scheduled: per lesson held (not cancelled), the pupils it was for. */
  scheduledPupilLessons: number;
  missedIllness: number;
  missedExcused: number;
  missedUnexcused: number;
  daysIllness: number;
  daysExcused: number;
  daysUnexcused: number;
  lateArrivals: number;
  lateMinutes: number;
}

export const emptyAttendance = (): AttendanceCounters => ({
  scheduledPupilLessons: 0,
  missedIllness: 0,
  missedExcused: 0,
  missedUnexcused: 0,
  daysIllness: 0,
  daysExcused: 0,
  daysUnexcused: 0,
  lateArrivals: 0,
  lateMinutes: 0,
});

export function countMissed(c: AttendanceCounters, reason: AbsenceReason, sign: 1 | -1 = 1): void {
  if (reason === "ILLNESS") c.missedIllness += sign;
  else if (reason === "EXCUSED") c.missedExcused += sign;
  else c.missedUnexcused += sign;
}

export function countDay(
  c: AttendanceCounters,
  reason: AbsenceReason | null,
  sign: 1 | -1 = 1,
): void {
  if (reason === "ILLNESS") c.daysIllness += sign;
  else if (reason === "EXCUSED") c.daysExcused += sign;
  else if (reason === "UNEXCUSED") c.daysUnexcused += sign;
}

export function addAttendance(into: AttendanceCounters, c: AttendanceCounters): AttendanceCounters {
  for (const k of Object.keys(into) as (keyof AttendanceCounters)[]) into[k] += c[k];
  return into;
}

export interface AttendanceFigures {
  readonly attendanceRate: Figure;
  readonly missedLessons: {
    readonly total: number;
    readonly illness: number;
    readonly excused: number;
    readonly unexcused: number;
    readonly definition: string;
  };
  readonly missedDays: {
    readonly total: number;
    readonly illness: number;
    readonly excused: number;
    readonly unexcused: number;
    readonly definition: string;
  };
  readonly lateness: {
    readonly arrivals: number;
    readonly minutes: number;
    readonly definition: string;
  };
}

/** attendance rate = 1 − missed pupil-lessons / scheduled pupil-lessons (domain.md). */
export function attendanceFigures(c: AttendanceCounters): AttendanceFigures {
  const missed = c.missedIllness + c.missedExcused + c.missedUnexcused;
  return {
    attendanceRate: ratio(
      c.scheduledPupilLessons - missed,
      c.scheduledPupilLessons,
      DEFINITIONS.attendanceRate,
    ),
    missedLessons: {
      total: missed,
      illness: c.missedIllness,
      excused: c.missedExcused,
      unexcused: c.missedUnexcused,
      definition: DEFINITIONS.missedLessons,
    },
    missedDays: {
      total: c.daysIllness + c.daysExcused + c.daysUnexcused,
      illness: c.daysIllness,
      excused: c.daysExcused,
      unexcused: c.daysUnexcused,
      definition: DEFINITIONS.missedDays,
    },
    lateness: {
      arrivals: c.lateArrivals,
      minutes: c.lateMinutes,
      definition: DEFINITIONS.lateness,
    },
  };
}
