import { invalidInput } from "./errors.js";

/** First and last civil day of the academic year starting in `startYear` (1 Sep - 31 Aug). */
export function academicYearBounds(startYear: number): { first: string; last: string } {
  return { first: `${startYear}-09-01`, last: `${startYear + 1}-08-31` };
}

export const formatAcademicYear = (startYear: number) => `${startYear}/${startYear + 1}`;

export function requireAcademicYear(
  field: string,
  year: { startYear: number } | undefined,
): number {
  const y = year?.startYear ?? 0;
  if (!Number.isInteger(y) || y < 2000 || y > 2100) {
    throw invalidInput(field, "must be an academic year such as 2026/2027 (start_year 2000-2100)");
  }
  return y;
}
