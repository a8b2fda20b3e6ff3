import { gqlError } from "../http/errors.js";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ID = /^[A-Za-z0-9_./-]{1,128}$/;

/** A real civil date YYYY-MM-DD, or BAD_USER_INPUT naming the argument. */
export function civilDate(field: string, raw: string): string {
  const m = DATE.exec(raw);
  const d = m ? new Date(`${raw}T00:00:00Z`) : undefined;
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) {
    throw gqlError("BAD_USER_INPUT", `${field}: must be a date YYYY-MM-DD`, field);
  }
  return raw;
}

/** Ids are opaque to the gateway but bounded, so junk never reaches a service. */
export function id(field: string, raw: string): string {
  if (!ID.test(raw)) {
    throw gqlError(
      "BAD_USER_INPUT",
      `${field}: must be an id (1-128 letters, digits, . _ / -)`,
      field,
    );
  }
  return raw;
}

export const days = (from: string, to: string) =>
  (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;

/** A date range of at most `maxDays` days, from <= to. */
export function range(
  from: string,
  to: string,
  maxDays: number,
  fields: readonly [string, string] = ["from", "to"],
) {
  civilDate(fields[0], from);
  civilDate(fields[1], to);
  if (days(from, to) < 0)
    throw gqlError("BAD_USER_INPUT", `${fields[1]}: must not be before ${fields[0]}`, fields[1]);
  if (days(from, to) > maxDays) {
    throw gqlError(
      "BAD_USER_INPUT",
      `${fields[1]}: at most ${maxDays} days after ${fields[0]}`,
      fields[1],
    );
  }
  return { from, to };
}

/** `<startYear>:<term>`: term 1-4, 0 for the whole year. */
export function termId(raw: string): { startYear: number; term: number } {
  const m = /^(\d{4}):([0-4])$/.exec(raw);
  if (!m)
    throw gqlError(
      "BAD_USER_INPUT",
      'termId: must be "<startYear>:<term 0-4>", e.g. "2026:1"',
      "termId",
    );
  return { startYear: Number(m[1]), term: Number(m[2]) };
}

export interface WorkProgrammeKey {
  schoolId: string;
  startYear: number;
  subjectId: string;
  gradeLevel: number;
  version: number;
}

/** `<schoolId>:<startYear>:<subjectId>:<gradeLevel>[:<version>]`. */
export function workProgrammeId(raw: string): WorkProgrammeKey {
  const parts = raw.split(":");
  const bad = () =>
    gqlError(
      "BAD_USER_INPUT",
      'id: must be "<schoolId>:<startYear>:<subjectId>:<gradeLevel>[:<version>]"',
      "id",
    );
  if (parts.length < 4 || parts.length > 5) throw bad();
  const [schoolId = "", year = "", subjectId = "", grade = "", version = "0"] = parts;
  if (!ID.test(schoolId) || !ID.test(subjectId) || !/^\d{4}$/.test(year)) throw bad();
  const gradeLevel = Number(grade);
  const v = Number(version);
  if (!Number.isInteger(gradeLevel) || gradeLevel < 1 || gradeLevel > 11) throw bad();
  if (!Number.isInteger(v) || v < 0 || v > 10_000) throw bad();
  return { schoolId, startYear: Number(year), subjectId, gradeLevel, version: v };
}
