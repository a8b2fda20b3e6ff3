import { invalidInput } from "./errors.js";

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
