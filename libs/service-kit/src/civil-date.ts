import { DomainError, quoteInput } from "./domain-error.js";

/**
 * A civil date (YYYY-MM-DD) in a school's zone. Arithmetic runs on UTC midnights, which have
 * no daylight-saving jumps, so a day is always 86 400 000 ms; ISO strings compare in order.
 */
export type CivilDate = string;

const FORMAT = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

export function isCivilDate(text: string): boolean {
  const m = FORMAT.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

/** Checks a date input: INVALID_ARGUMENT naming `field` when it is not a real date. */
export function civilDate(field: string, text: string): CivilDate {
  if (!isCivilDate(text))
    throw new DomainError(
      "invalid_argument",
      `${field}: must be a real date written YYYY-MM-DD, got ${quoteInput(text)}`,
      { field },
    );
  return text;
}

const toMs = (d: CivilDate) => Date.parse(`${d}T00:00:00Z`);
const fromMs = (ms: number): CivilDate => new Date(ms).toISOString().slice(0, 10);

export const addDays = (d: CivilDate, days: number): CivilDate => fromMs(toMs(d) + days * DAY_MS);

/** 1 = Monday ... 7 = Sunday (ISO). */
export function isoWeekday(d: CivilDate): number {
  const day = new Date(toMs(d)).getUTCDay();
  return day === 0 ? 7 : day;
}

/** Every date from `first` to `last`, both included. */
export function* eachDay(first: CivilDate, last: CivilDate): Generator<CivilDate> {
  for (let ms = toMs(first); ms <= toMs(last); ms += DAY_MS) yield fromMs(ms);
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

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone !== "";
  } catch {
    return false;
  }
}
