import type { CivilDate } from "./civil-date.js";

/*
 * The Russian academic year runs from 1 September to 31 August (Federal Law 273-FZ, art. 28:
 * the school sets its own first and last lesson days inside it). Every service names a year
 * by its start year; these are the one place its days and its name are spelled out.
 */

/** First and last civil day of the academic year that starts in `startYear`. */
export const academicYearDays = (
  startYear: number,
): { firstDay: CivilDate; lastDay: CivilDate } => ({
  firstDay: `${startYear}-09-01`,
  lastDay: `${startYear + 1}-08-31`,
});

/** The start year of the academic year a civil date falls in (2027-08-31 → 2026). */
export const academicYearOf = (day: CivilDate): number => {
  const year = Number(day.slice(0, 4));
  return day.slice(5) >= "09-01" ? year : year - 1;
};

/** The year as schools write it: 2026/2027. */
export const formatAcademicYear = (startYear: number): string => `${startYear}/${startYear + 1}`;
