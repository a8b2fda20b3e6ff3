import type pg from "pg";
import { PERF_WIDTH, STANDING_WIDTH } from "../projections/counters-codec.js";
import { REPORTING_SCHEMA } from "../projections/projection.js";

/*
 * A region's read model bulk-loaded in SQL, for the dashboard benchmark: `marks` journal
 * entries (the source rows behind the aggregates) over class groups sized like real ones
 * (~7,500 marks a class group a year), and the aggregate rows those class groups, their
 * schools, municipalities and the region have. Counter values are synthetic: a dashboard's
 * cost depends on which rows it reads, not on the numbers in them.
 */
export interface SyntheticRegionOptions {
  marks: number;
  subjects?: number;
  /** School days loaded so far (daily rows per scope and subject). */
  days?: number;
}

export interface SyntheticRegion {
  classGroups: number;
  schools: number;
  municipalities: number;
  subjects: number;
  days: number;
}

const ATTENDANCE_WIDTH = 9;
const JOURNAL_WIDTH = 64;

export async function loadSyntheticRegion(
  pool: pg.Pool,
  o: SyntheticRegionOptions,
): Promise<SyntheticRegion> {
  const subjects = o.subjects ?? 10;
  const days = o.days ?? 60;
  const classGroups = Math.max(1, Math.round(o.marks / 7_500));
  const schools = Math.max(1, Math.ceil(classGroups / 20));
  const municipalities = Math.min(43, schools);
  const S = `"${REPORTING_SCHEMA}"`;
  const arr = (n: number) =>
    `ARRAY(SELECT (random() * 50)::bigint + g * 0 FROM generate_series(1, ${n}))`;
  const q = (text: string, params: unknown[] = []) => pool.query(text, params);
  await q(
    `INSERT INTO ${S}.schools SELECT 'school-' || s, 'muni-' || (s % $2::int), 'Asia/Yekaterinburg' FROM generate_series(0, $1::int - 1) s`,
    [schools, municipalities],
  );
  await q(
    `INSERT INTO ${S}.class_groups SELECT 'cg-' || g, 'school-' || (g % $2::int), 'muni-' || ((g % $2::int) % $3::int), 2026, 5 + g % 7
       FROM generate_series(0, $1::int - 1) g`,
    [classGroups, schools, municipalities],
  );
  await q(
    `INSERT INTO ${S}.terms SELECT 'school-' || s, 2026, lvl, t, date '2026-09-01' + (t - 1) * 63, date '2026-09-01' + t * 63 - 8
       FROM generate_series(0, $1::int - 1) s, generate_series(5, 11) lvl, generate_series(1, 4) t`,
    [schools],
  );
  // The source rows: every mark a journal entry with its pupil, lesson day and weight.
  await q(
    `INSERT INTO ${S}.marks (mark_id, journal_id, school_id, municipality_id, start_year, class_group_id, subgroup_id,
       subject_id, term, lesson_id, lesson_date, student_id, value, weight, work_type)
     SELECT 'm-' || i, 'j-' || (i % ($2::int * $3::int)), 'school-' || ((i / $3::int) % $2::int % $4::int), 'muni-' || ((i / $3::int) % $2::int % $4::int % $5::int), 2026,
            'cg-' || ((i / $3::int) % $2::int), '', 'sub-' || (i % $3::int), 1, 'l-' || (i % 5000), date '2026-09-01' + (i % $6::int),
            'st-' || ((i / $3::int) % $2::int) || '-' || (i % 25), (1 + i % 5)::text, 1 + i % 3, 'ORAL'
       FROM generate_series(0, $1::int - 1) i`,
    [o.marks, classGroups, subjects, schools, municipalities, days],
  );
  // The aggregate rows of every scope: class groups, schools, municipalities, the region.
  const scopes = `(SELECT 'CLASS_GROUP' AS level, 'cg-' || g AS id FROM generate_series(0, ${classGroups - 1}) g
     UNION ALL SELECT 'SCHOOL', 'school-' || s FROM generate_series(0, ${schools - 1}) s
     UNION ALL SELECT 'MUNICIPALITY', 'muni-' || m FROM generate_series(0, ${municipalities - 1}) m
     UNION ALL SELECT 'REGION', 'region')`;
  const subjectList = `(SELECT 'sub-' || x AS subject FROM generate_series(0, ${subjects - 1}) x UNION ALL SELECT '*')`;
  await q(
    `INSERT INTO ${S}.perf SELECT sc.level, sc.id, 2026, t, su.subject, ${arr(PERF_WIDTH).replace("g * 0", "t * 0")}
       FROM ${scopes} sc, ${subjectList} su, generate_series(0, 2) t`,
  );
  await q(
    `INSERT INTO ${S}.standing SELECT sc.level, sc.id, 2026, t, ${arr(STANDING_WIDTH).replace("g * 0", "t * 0")}
       FROM ${scopes} sc, generate_series(0, 2) t`,
  );
  await q(
    `INSERT INTO ${S}.daily SELECT sc.level, sc.id, su.subject, date '2026-09-01' + d,
            ${arr(ATTENDANCE_WIDTH).replace("g * 0", "d * 0")}, ${arr(JOURNAL_WIDTH).replace("g * 0", "d * 0")}
       FROM ${scopes} sc, ${subjectList} su, generate_series(0, ${days - 1}) d`,
  );
  await q(
    `ANALYZE ${S}.perf, ${S}.standing, ${S}.daily, ${S}.marks, ${S}.class_groups, ${S}.terms`,
  );
  return { classGroups, schools, municipalities, subjects, days };
}
