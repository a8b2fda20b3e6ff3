import type { Scope } from "./deltas.js";
import type { Q } from "./query.js";

/**
 * Where a pupil counts for a period: the class group of their latest enrollment in the year
 * (a transfer moves them, also to another school), on roll when that enrollment still runs
 * on the period's last day. Without an enrollment (not replicated yet) the journal's class
 * group is used and the pupil counts as on roll; the enrollment event re-attributes them.
 */
export interface Attribution {
  readonly scope: Scope;
  readonly onRoll: boolean;
  /** The period's dates when the school's term system is known. */
  readonly first: string | null;
  readonly last: string | null;
  /** Dates of the last term of the year (exemption at the year's end), or of the term. */
  readonly exemptFirst: string | null;
  readonly exemptLast: string | null;
}

interface TermRow {
  term: number;
  first_day: string;
  last_day: string;
}

export async function attribute(
  q: Q,
  studentId: string,
  startYear: number,
  term: number,
  fallback: Scope,
): Promise<Attribution> {
  const [e] = await q<{
    class_group_id: string;
    school_id: string;
    municipality_id: string;
    grade_level: number;
    until: string | null;
  }>(
    `SELECT e.class_group_id, c.school_id, c.municipality_id, c.grade_level, e.until::text AS until
       FROM $S.enrollments e JOIN $S.class_groups c USING (class_group_id)
      WHERE e.person_id = $1 AND c.start_year = $2 ORDER BY e.first_day DESC, e.seq DESC LIMIT 1`,
    [studentId, startYear],
  );
  let grade: { school_id: string; grade_level: number } | undefined = e;
  if (!grade) {
    [grade] = await q<{ school_id: string; grade_level: number }>(
      "SELECT school_id, grade_level FROM $S.class_groups WHERE class_group_id = $1",
      [fallback.classGroupId],
    );
  }
  const terms = grade
    ? await q<TermRow>(
        `SELECT term, first_day::text AS first_day, last_day::text AS last_day FROM $S.terms
          WHERE school_id = $1 AND start_year = $2 AND grade_level = $3 ORDER BY term`,
        [grade.school_id, startYear, grade.grade_level],
      )
    : [];
  const period = term === 0 ? terms : terms.filter((t) => t.term === term);
  const first = period[0]?.first_day ?? null;
  const last = period[period.length - 1]?.last_day ?? null;
  const exemptOn = term === 0 ? terms[terms.length - 1] : period[0];
  const dates = {
    first,
    last,
    exemptFirst: exemptOn?.first_day ?? null,
    exemptLast: exemptOn?.last_day ?? null,
  };
  if (!e) return { scope: fallback, onRoll: true, ...dates };
  const scope = {
    classGroupId: e.class_group_id,
    schoolId: e.school_id,
    municipalityId: e.municipality_id,
  };
  const onRoll = e.until === null || (last !== null && e.until > last);
  return { scope, onRoll, ...dates };
}
