import { invalidInput } from "../errors.js";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a civil date (YYYY-MM-DD); the field names the input on error. */
export function dayNumber(date: string, field: string): number {
  const m = DATE.exec(date);
  if (!m) throw invalidInput(field, `must be a date YYYY-MM-DD, got ${JSON.stringify(date)}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(ms).toISOString().slice(0, 10);
  if (back !== date) throw invalidInput(field, `is not a calendar date: ${date}`);
  return ms / 86_400_000;
}

export const daysBetween = (from: string, to: string, fromField: string, toField: string) =>
  dayNumber(to, toField) - dayNumber(from, fromField);
