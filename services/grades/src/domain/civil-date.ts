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

interface ZoneToday {
  format: Intl.DateTimeFormat;
  /** The UTC minute (ms / 60,000) `date` was computed for. */
  minute: number;
  date: CivilDate;
}

const zones = new Map<string, ZoneToday>();

/**
 * The civil date of an instant in an IANA zone ("today" for a school). Formatting costs
 * microseconds on every command, so the last answer per zone is kept for its UTC minute:
 * every zone's offset is a whole number of minutes, so a local day starts on a minute.
 */
export function civilDateIn(instant: Date, timeZone: string): CivilDate {
  const minute = Math.floor(instant.getTime() / 60_000);
  let z = zones.get(timeZone);
  if (z?.minute === minute) return z.date;
  // Building a DateTimeFormat costs more than a whole mark's decision: one per zone.
  const format =
    z?.format ??
    new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
  z = { format, minute, date: format.format(instant) };
  zones.set(timeZone, z);
  return z.date;
}
