import type { Scope } from "./deltas.js";
import type { Q } from "./query.js";

/**
 * Where a pupil counts for a period: the class group of their enrollment running on the
 * period's last day (domain.md: N counts pupils on roll at the end of the period), so a
 * transfer moves the terms that end after it, also to another school, and leaves those that
 * ended before it where the pupil was. A pupil on no roll that day (withdrawn, or enrolled
 * after it) is attributed to their latest enrollment of the year and is not on roll. While
 * the period's dates are not known the latest enrollment counts, on roll while it runs.
 * Without an enrollment (not replicated yet) the journal's class group is used and the pupil
 * counts as on roll; the enrollment event re-attributes them.
 */
export interface Attribution {
  readonly scope: Scope;
  readonly onRoll: boolean;
  /** Dates of the term, or of the year's last term for the year (exemption at the period's end). */
  readonly exemptFirst: string | null;
  readonly exemptLast: string | null;
}

interface Enrollment {
  person_id: string;
  class_group_id: string;
  school_id: string;
  municipality_id: string;
  grade_level: number;
  first_day: string;
  until: string | null;
}

interface TermRow {
  school_id: string;
  grade_level: number;
  term: number;
  first_day: string;
  last_day: string;
}

export interface AttributionKey {
  readonly studentId: string;
  readonly startYear: number;
  readonly term: number;
  readonly fallback: Scope;
}

const attributionKey = (k: AttributionKey) =>
  `${k.studentId}|${k.startYear}|${k.term}|${k.fallback.classGroupId}|${k.fallback.schoolId}|${k.fallback.municipalityId}`;

/** `attributeAll` through a cache kept by the caller (a rebuild's, see rebuild-memory.ts). */
export async function attributeCached(
  q: Q,
  keys: readonly AttributionKey[],
  cache: Map<string, Attribution> | undefined,
): Promise<Attribution[]> {
  if (!cache) return attributeAll(q, keys);
  const names = keys.map(attributionKey);
  const missing = keys.filter((_, i) => !cache.has(names[i] as string));
  const read = await attributeAll(q, missing);
  for (const [i, k] of missing.entries()) cache.set(attributionKey(k), read[i] as Attribution);
  return names.map((n) => cache.get(n) as Attribution);
}

/**
 * Attributes a batch's pupils in one round trip, whatever their number: the enrollments, the
 * journals' class groups (fallback) and the terms of their schools come back as JSON arrays.
 */
export async function attributeAll(q: Q, keys: readonly AttributionKey[]): Promise<Attribution[]> {
  if (keys.length === 0) return [];
  const [row] = await q<{
    enrollments: (Enrollment & { start_year: number })[];
    fallbacks: { class_group_id: string; school_id: string; grade_level: number }[];
    terms: (TermRow & { start_year: number })[];
  }>(
    `WITH enr AS (
       SELECT e.person_id, c.start_year, e.class_group_id, c.school_id, c.municipality_id, c.grade_level,
              e.first_day::text AS first_day, e.until::text AS until, e.seq
         FROM $S.enrollments e JOIN $S.class_groups c USING (class_group_id)
        WHERE e.person_id = ANY($1::text[]) AND c.start_year = ANY($2::int[])),
     fb AS (SELECT class_group_id, school_id, grade_level FROM $S.class_groups WHERE class_group_id = ANY($3::text[])),
     tr AS (SELECT school_id, start_year, grade_level, term, first_day::text AS first_day, last_day::text AS last_day
              FROM $S.terms WHERE start_year = ANY($2::int[])
               AND school_id IN (SELECT school_id FROM enr UNION SELECT school_id FROM fb))
     SELECT (SELECT coalesce(json_agg(enr ORDER BY enr.first_day DESC, enr.seq DESC), '[]') FROM enr) AS enrollments,
            (SELECT coalesce(json_agg(fb), '[]') FROM fb) AS fallbacks,
            (SELECT coalesce(json_agg(tr ORDER BY tr.term), '[]') FROM tr) AS terms`,
    [
      [...new Set(keys.map((k) => k.studentId))],
      [...new Set(keys.map((k) => k.startYear))],
      [...new Set(keys.map((k) => k.fallback.classGroupId))],
    ],
  );
  const enrollments = row?.enrollments ?? [];
  const fallbacks = row?.fallbacks ?? [];
  const terms = row?.terms ?? [];
  // Each pupil's enrollments of the year, the latest first (by first day, then as recorded).
  const byPupil = new Map<string, (Enrollment & { start_year: number })[]>();
  for (const e of enrollments) {
    const k = `${e.person_id}|${e.start_year}`;
    byPupil.set(k, [...(byPupil.get(k) ?? []), e]);
  }
  const fallbackGrade = new Map(fallbacks.map((f) => [f.class_group_id, f]));
  return keys.map((k) => {
    const own = (grade: { school_id: string; grade_level: number } | undefined) =>
      grade
        ? terms.filter(
            (t) =>
              t.school_id === grade.school_id &&
              t.start_year === k.startYear &&
              t.grade_level === grade.grade_level,
          )
        : [];
    // The period's last day and the exemption's term by that school's grade level's terms.
    const datesOf = (grade: { school_id: string; grade_level: number } | undefined) => {
      const all = own(grade);
      const period = k.term === 0 ? all : all.filter((t) => t.term === k.term);
      const exemptOn = k.term === 0 ? all[all.length - 1] : period[0];
      return {
        last: period[period.length - 1]?.last_day ?? null,
        exemptFirst: exemptOn?.first_day ?? null,
        exemptLast: exemptOn?.last_day ?? null,
      };
    };
    const list = byPupil.get(`${k.studentId}|${k.startYear}`) ?? [];
    if (list.length === 0) {
      const { last: _l, ...dates } = datesOf(fallbackGrade.get(k.fallback.classGroupId));
      return { scope: k.fallback, onRoll: true, ...dates };
    }
    const scopeOf = (e: Enrollment) => ({
      classGroupId: e.class_group_id,
      schoolId: e.school_id,
      municipalityId: e.municipality_id,
    });
    for (const e of list) {
      const { last, ...dates } = datesOf(e);
      if (last !== null && e.first_day <= last && (e.until === null || e.until > last))
        return { scope: scopeOf(e), onRoll: true, ...dates };
    }
    const latest = list[0] as Enrollment;
    const { last, ...dates } = datesOf(latest);
    return { scope: scopeOf(latest), onRoll: last === null && latest.until === null, ...dates };
  });
}
