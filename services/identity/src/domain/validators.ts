import type { Clock } from "@otmetka/service-kit";
import {
  civilDateIn,
  DomainError,
  hasControlCharacter,
  isCivilDate,
  isTimeZone,
} from "@otmetka/service-kit";

/*
 * Pure validators of identity's value objects. Each returns the normalised value or throws a
 * DomainError("invalid_argument") naming the field, so a command fails before deciding.
 */

const invalid = (field: string, rule: string) =>
  new DomainError("invalid_argument", `${field}: ${rule}`, { field });

/** Weighted checksum digit used by INN: sum(d_i * w_i) mod 11 mod 10. */
function innControl(digits: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += digits[i]! * weights[i]!;
  return (sum % 11) % 10;
}

const toDigits = (s: string) => [...s].map(Number);

/** INN: 10 digits (legal entity, one check digit) or 12 digits (individual, two). */
export function isValidInn(inn: string): boolean {
  if (!/^\d{10}$|^\d{12}$/.test(inn)) return false;
  const d = toDigits(inn);
  if (d.length === 10) return innControl(d, [2, 4, 10, 3, 5, 9, 4, 6, 8]) === d[9];
  return (
    innControl(d, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === d[10] &&
    innControl(d, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === d[11]
  );
}

/** OGRN: 13 digits; the last is (first 12 as a number mod 11) mod 10. */
export function isValidOgrn(ogrn: string): boolean {
  if (!/^\d{13}$/.test(ogrn)) return false;
  return Number((BigInt(ogrn.slice(0, 12)) % 11n) % 10n) === Number(ogrn[12]);
}

/**
 * SNILS: 11 digits, the last two a checksum of the first nine (sum of digit * position from
 * the right, mod 101, 100 -> 00). Numbers up to 001-001-998 predate the checksum.
 */
export function isValidSnils(snils: string): boolean {
  if (!/^\d{11}$/.test(snils)) return false;
  const body = snils.slice(0, 9);
  const check = Number(snils.slice(9));
  if (Number(body) <= 1_001_998) return true;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(body[i]) * (9 - i);
  const expected = sum < 100 ? sum : sum === 100 || sum === 101 ? 0 : (sum % 101) % 100;
  return expected === check;
}

export function requireInn(field: string, raw: string): string {
  const inn = raw.trim();
  if (!isValidInn(inn)) {
    throw invalid(field, "must be an INN of 10 or 12 digits with valid check digits");
  }
  return inn;
}

/** Schools are legal entities: their INN has 10 digits. */
export function requireLegalEntityInn(field: string, raw: string): string {
  const inn = requireInn(field, raw);
  if (inn.length !== 10) throw invalid(field, "must be a legal entity's INN of 10 digits");
  return inn;
}

export function requireOgrn(field: string, raw: string): string {
  const ogrn = raw.trim();
  if (!isValidOgrn(ogrn))
    throw invalid(field, "must be an OGRN of 13 digits with a valid check digit");
  return ogrn;
}

/** Accepts "112-233-445 95" as well as "11223344595"; returns the 11 digits. */
export function requireSnils(field: string, raw: string): string {
  const snils = raw.replace(/[\s-]/g, "");
  if (!isValidSnils(snils))
    throw invalid(field, "must be a SNILS of 11 digits with a valid checksum");
  return snils;
}

/** A one-line text: white space squeezed to single spaces, no control characters. */
export function requireName(field: string, raw: string, maxLength = 200): string {
  const name = raw.trim().replace(/\s+/g, " ");
  if (name === "") throw invalid(field, "must not be empty");
  if (name.length > maxLength) throw invalid(field, `must be at most ${maxLength} characters`);
  if (hasControlCharacter(name)) throw invalid(field, "must not contain control characters");
  return name;
}

/** A civil date YYYY-MM-DD that exists in the calendar. */
export function requireCivilDate(field: string, raw: string): string {
  const date = raw.trim();
  if (!isCivilDate(date)) throw invalid(field, "must be a date YYYY-MM-DD");
  return date;
}

/** Today's civil date in `timeZone`, per the clock. */
export const civilToday = (clock: Clock, timeZone: string): string =>
  civilDateIn(clock.now(), timeZone);

/** A birth date: a valid date, not after today in the school's zone, not before 1900. */
export function requireBirthDate(
  field: string,
  raw: string,
  clock: Clock,
  timeZone: string = DEFAULT_TIME_ZONE,
): string {
  const date = requireCivilDate(field, raw);
  if (date > civilToday(clock, timeZone)) throw invalid(field, "must not be in the future");
  if (date < "1900-01-01") throw invalid(field, "must not be before 1900-01-01");
  return date;
}

export const DEFAULT_TIME_ZONE = "Asia/Yekaterinburg";

/** An IANA time zone name; empty means the region's default. */
export function requireTimeZone(field: string, raw: string): string {
  const zone = raw.trim() === "" ? DEFAULT_TIME_ZONE : raw.trim();
  // Intl accepts offsets such as "+05:00" too; a zone name has a region part.
  if ((!zone.includes("/") && zone !== "UTC") || !isTimeZone(zone))
    throw invalid(field, "must be an IANA time zone such as Asia/Yekaterinburg");
  return zone;
}

export function requireId(field: string, raw: string): string {
  const id = raw.trim();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw invalid(field, "must be a UUID");
  }
  return id.toLowerCase();
}

export function requireCommandId(raw: string): string {
  if (raw.trim() === "")
    throw invalid("command_id", "is required (a client-chosen id that makes retries safe)");
  if (raw.length > 200) throw invalid("command_id", "must be at most 200 characters");
  if (hasControlCharacter(raw)) throw invalid("command_id", "must not contain control characters");
  return raw;
}
