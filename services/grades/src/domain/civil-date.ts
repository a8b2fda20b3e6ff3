import { invalidInput } from "./errors.js";

/** A civil date (YYYY-MM-DD) in the school's zone; ISO strings compare in order. */
export type CivilDate = string;

const FORMAT = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isCivilDate(text: string): boolean {
  const m = FORMAT.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

export function civilDate(field: string, text: string): CivilDate {
  if (!isCivilDate(text))
    throw invalidInput(field, `must be a real date written YYYY-MM-DD, got "${text}"`);
  return text;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The civil date of an instant in an IANA zone ("today" for a school). */
export function civilDateIn(instant: Date, timeZone: string): CivilDate {
  // Building a DateTimeFormat costs more than a whole mark's decision: one per zone.
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    formats.set(timeZone, f);
  }
  return f.format(instant);
}
