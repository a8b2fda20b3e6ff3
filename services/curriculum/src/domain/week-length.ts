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
