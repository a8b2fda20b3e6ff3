import { type CivilDate, isoWeekday } from "@otmetka/service-kit";
import { refused } from "./errors.js";
import type { AcademicYearDefined } from "./events.js";

export const FIRST_GRADE_RULE = 'SanPiN 1.2.3685-21: "1 класс — 5-дневная учебная неделя"';

/**
 * A grade level's week length: set for it (SetGradeWeekLength), else the school's, except
 * that grade 1 has five days on a six-day school's week too (SanPiN 1.2.3685-21). The rule is
 * applied here, when the calendar is read, not written as an event by DefineAcademicYear: so
 * it holds for calendars defined before it, and every decision asks this one function.
 */
export function gradeDaysPerWeek(
  year: AcademicYearDefined,
  weekLengths: ReadonlyMap<number, number>,
  gradeLevel: number,
): number {
  const set = weekLengths.get(gradeLevel);
  if (set !== undefined) return set;
  return gradeLevel === 1 ? 5 : year.daysPerWeek;
}

/** Why a grade level has its week length, for refusals. */
export function weekLengthReason(
  year: AcademicYearDefined,
  weekLengths: ReadonlyMap<number, number>,
  gradeLevel: number,
): string {
  const days = gradeDaysPerWeek(year, weekLengths, gradeLevel);
  if (weekLengths.has(gradeLevel)) return `grade ${gradeLevel} has a ${days}-day week`;
  if (gradeLevel === 1 && year.daysPerWeek !== days)
    return `grade 1 always has a 5-day week (${FIRST_GRADE_RULE})`;
  return `the school has a ${days}-day week`;
}

/** A lesson of a class group of some grade level, as SetGradeWeekLength checks it. */
export interface GradeLesson {
  lessonId: string;
  classGroupId: string;
  gradeLevel: number;
  date: CivilDate;
  status: "scheduled" | "conducted" | "cancelled" | "unscheduled";
}

/**
 * Five days a week leaves no Saturday: a lesson generated or moved onto one from today on and
 * still scheduled would stay there, outside its grade's week. Refused rather than cancelled, as
 * a Saturday slot is: the admin moves or cancels it first. A conducted lesson (today's at the
 * latest: ConductLesson refuses later ones) has taken place and stays as it was, like every
 * Saturday before today; it cannot be moved or cancelled, so counting it would block the
 * change until midnight.
 */
export function requireNoSaturdayLessons(
  lessons: readonly GradeLesson[],
  gradeLevels: readonly number[],
  today: CivilDate,
): void {
  const held = lessons
    .filter(
      (l) =>
        gradeLevels.includes(l.gradeLevel) &&
        l.date >= today &&
        isoWeekday(l.date) > 5 &&
        l.status === "scheduled",
    )
    .sort((a, b) => a.date.localeCompare(b.date) || a.lessonId.localeCompare(b.lessonId));
  if (held.length === 0) return;
  const named = held
    .slice(0, 5)
    .map(
      (l) =>
        `lesson ${l.lessonId} (grade ${l.gradeLevel}, class group ${l.classGroupId}, ${l.date})`,
    )
    .join(", ");
  const more = held.length > 5 ? ` and ${held.length - 5} more` : "";
  throw refused(
    "days_per_week",
    `a 5-day week has no Saturday, but ${held.length} lesson${held.length === 1 ? " is" : "s are"} still scheduled on Saturdays from ${today} on: ${named}${more}; move or cancel them first (MoveLesson, CancelLesson)`,
  );
}
