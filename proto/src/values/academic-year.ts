import type { AcademicYear } from "../gen/otmetka/common/v1/academic_year.js";

export type { AcademicYear };

export class InvalidAcademicYear extends Error {
  override name = "InvalidAcademicYear";
}

const TEXT = /^(\d{4})\/(\d{4})$/;

/** Reads "2026/2027"; the second year must follow the first. */
export function parseAcademicYear(text: string): AcademicYear {
  const m = TEXT.exec(text);
  if (!m) throw new InvalidAcademicYear(`academic year "${text}" must be written YYYY/YYYY`);
  const start = Number(m[1]);
  if (Number(m[2]) !== start + 1) {
    throw new InvalidAcademicYear(`academic year "${text}": the second year must be ${start + 1}`);
  }
  return { startYear: start };
}

export function formatAcademicYear(year: AcademicYear): string {
  return `${year.startYear}/${year.startYear + 1}`;
}

/**
 * The academic year a civil date (YYYY-MM-DD, already in the school's zone) falls in:
 * 1 September starts a new one.
 */
export function academicYearOf(civilDate: string): AcademicYear {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(civilDate);
  if (!m) throw new InvalidAcademicYear(`date "${civilDate}" must be written YYYY-MM-DD`);
  const year = Number(m[1]);
  return { startYear: Number(m[2]) >= 9 ? year : year - 1 };
}
