import { academicYearDays, formatAcademicYear } from "@otmetka/service-kit";
import { invalidInput } from "../domain/errors.js";
import { dayNumber } from "../domain/metrics/civil-date.js";
import type { ResultBasis } from "../domain/metrics/definitions.js";
import type { Level } from "../projections/deltas.js";
import type { ReadDb } from "./read-db.js";

/** A dashboard's period: a term (within one school), a year, "current", or a date range. */
export type Period =
  | { readonly kind: "TERM"; readonly term: number }
  | { readonly kind: "YEAR" }
  | { readonly kind: "CURRENT" }
  | { readonly kind: "RANGE"; readonly from: string; readonly to: string };

/** What the aggregates are read for: a term row (0 = year), a basis and a day range. */
export interface ResolvedPeriod {
  /** null for a date range: performance figures need a term or the year. */
  readonly term: number | null;
  readonly basis: ResultBasis;
  readonly from: string;
  readonly to: string;
}

/** An academic year's first and last day, as a period's range. */
const yearRange = (startYear: number) => {
  const { firstDay, lastDay } = academicYearDays(startYear);
  return { from: firstDay, to: lastDay };
};

/**
 * Resolves a period. A term is one school's (its grade levels may differ: the day range is
 * the union of their term dates). "Current" is the class group's term containing `asOf`
 * (the year to date above a class group, where terms differ), on the current basis.
 */
export async function resolvePeriod(
  db: ReadDb,
  level: Level,
  scopeId: string,
  startYear: number,
  period: Period,
  asOf: string,
  basis: ResultBasis | undefined,
): Promise<ResolvedPeriod> {
  dayNumber(asOf, "asOf");
  const year = yearRange(startYear);
  switch (period.kind) {
    case "YEAR":
      return { term: 0, basis: basis ?? "PERIOD_MARKS", ...year };
    case "RANGE": {
      if (dayNumber(period.from, "period.from") > dayNumber(period.to, "period.to")) {
        throw invalidInput("period.to", "must not be before period.from");
      }
      return { term: null, basis: basis ?? "CURRENT", from: period.from, to: period.to };
    }
    case "TERM": {
      if (level !== "CLASS_GROUP" && level !== "SCHOOL") {
        throw invalidInput(
          "period.term",
          "a term is a period only within one school (use a year, current or a range)",
        );
      }
      if (!Number.isInteger(period.term) || period.term < 1 || period.term > 4) {
        throw invalidInput("period.term", `must be 1-4, got ${period.term}`);
      }
      const terms = await termDates(db, level, scopeId, startYear);
      const r = terms.find((t) => t.term === period.term);
      // The year's dates would pass for the term's figures: a term not defined is refused.
      if (!r) throw undefinedTerm(level, scopeId, startYear, period.term, terms);
      return { term: period.term, basis: basis ?? "PERIOD_MARKS", from: r.first, to: r.last };
    }
    case "CURRENT": {
      if (level === "CLASS_GROUP") {
        const [r] = await db.cachedRows<{ term: number; first: string; last: string }>(
          `SELECT t.term, t.first_day::text AS first, t.last_day::text AS last FROM $S.terms t
             JOIN $S.class_groups c ON c.school_id = t.school_id AND c.start_year = t.start_year AND c.grade_level = t.grade_level
            WHERE c.class_group_id = $1 AND t.start_year = $2 AND t.first_day <= $3::date AND t.last_day >= $3::date`,
          [scopeId, startYear, asOf],
        );
        if (r) return { term: r.term, basis: basis ?? "CURRENT", from: r.first, to: r.last };
      }
      return { term: 0, basis: basis ?? "CURRENT", ...year };
    }
  }
}

/** The scope's terms of the year (a school's: each the union of its grade levels' dates). */
function termDates(db: ReadDb, level: Level, scopeId: string, startYear: number) {
  const where =
    level === "SCHOOL"
      ? "t.school_id = $1"
      : `(t.school_id, t.grade_level) = (SELECT school_id, grade_level FROM $S.class_groups WHERE class_group_id = $1)`;
  return db.cachedRows<{ term: number; first: string; last: string }>(
    `SELECT t.term, min(t.first_day)::text AS first, max(t.last_day)::text AS last FROM $S.terms t
      WHERE ${where} AND t.start_year = $2 GROUP BY t.term ORDER BY t.term`,
    [scopeId, startYear],
  );
}

function undefinedTerm(
  level: Level,
  scopeId: string,
  startYear: number,
  term: number,
  terms: readonly { term: number }[],
) {
  const who = `${level === "SCHOOL" ? "school" : "class group"} ${scopeId}`;
  const year = formatAcademicYear(startYear);
  return invalidInput(
    "period.term",
    terms.length === 0
      ? `${who} has no terms in ${year} (its term system is not known here yet)`
      : `${who} has terms ${terms.map((t) => t.term).join(", ")} in ${year}, not ${term}`,
  );
}
