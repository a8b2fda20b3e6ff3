import type { Deltas, TotalRow } from "./deltas.js";
import { newMarkColumns } from "./grades-marks.js";
import type { PupilRows } from "./pupils.js";
import type { Q } from "./query.js";

const ADD = (col: string, table: string) =>
  `${col} = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(${table}.${col}, excluded.${col}) AS t(a, b))`;

/** Rows of parameters as one multi-row upsert, chunked under PostgreSQL's parameter limit. */
export async function upsertRows(
  q: Q,
  head: string,
  tail: string,
  rows: unknown[][],
): Promise<void> {
  if (rows.length === 0) return;
  const width = rows[0]?.length ?? 1;
  const per = Math.max(1, Math.floor(30_000 / width));
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const params: unknown[] = [];
    const values = chunk.map((r) => {
      const start = params.length;
      params.push(...r);
      return `(${r.map((_, j) => `$${start + j + 1}`).join(", ")})`;
    });
    await q(`${head} VALUES ${values.join(", ")} ${tail}`, params);
  }
}

export const nonZero = (a: number[]) => a.some((x) => x !== 0);
/** A number[] as a PostgreSQL array literal (one text parameter instead of an array to encode). */
export const pgArray = (a: number[]) => `{${a.join(",")}}`;
const column = <T>(rows: T[][], i: number) => rows.map((r) => r[i]);

/**
 * The batch's new marks, the pupils' new rows and the batch's deltas in ONE statement (data-modifying CTEs over
 * unnest()ed column arrays): a batch costs the same number of round trips whatever its size.
 * Counters are added element-wise in PostgreSQL, never read back.
 */
export async function writeAll(q: Q, d: Deltas, pupils: PupilRows): Promise<void> {
  const rowsOf = (totals: Map<string, TotalRow>) =>
    [...totals.values()]
      .filter((r) => r.cols.some(nonZero))
      .map(({ key, cols }) => [...key, ...cols] as unknown[]);
  const perf = rowsOf(d.perfTotals());
  const standing = rowsOf(d.standingTotals());
  const daily = rowsOf(d.dailyTotals());
  const { resultRows: res, standingRows: st } = pupils;
  const marks = d.newMarks.size;
  if (marks + res.length + st.length + perf.length + standing.length + daily.length === 0) return;
  const params: unknown[] = [
    ...[0, 1, 2, 3, 4, 5, 6].map((i) => column(res, i)),
    ...[0, 1, 2, 3, 4, 5].map((i) => column(st, i)),
    ...[0, 1, 2, 3, 4].map((i) => column(perf, i)),
    column(perf, 5).map((a) => pgArray(a as number[])),
    ...[0, 1, 2, 3].map((i) => column(standing, i)),
    column(standing, 4).map((a) => pgArray(a as number[])),
    ...[0, 1, 2, 3].map((i) => column(daily, i)),
    column(daily, 4).map((a) => pgArray(a as number[])),
    column(daily, 5).map((a) => pgArray(a as number[])),
    ...newMarkColumns(d),
  ];
  await q(
    `WITH m AS (
       INSERT INTO $S.marks (mark_id, journal_id, school_id, municipality_id, start_year, class_group_id, subgroup_id,
         subject_id, term, lesson_id, lesson_date, student_id, value, weight, work_type, revoked)
       SELECT * FROM unnest($31::text[], $32::text[], $33::text[], $34::text[], $35::int[], $36::text[], $37::text[],
         $38::text[], $39::int[], $40::text[], $41::date[], $42::text[], $43::text[], $44::int[], $45::text[], $46::bool[])
       ON CONFLICT (mark_id) DO NOTHING),
     r AS (
       INSERT INTO $S.pupil_results (student_id, subject_id, start_year, term, scope, current, period)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::jsonb[], $6::jsonb[], $7::jsonb[])
       ON CONFLICT (student_id, start_year, term, subject_id)
       DO UPDATE SET scope = excluded.scope, current = excluded.current, period = excluded.period),
     s AS (
       INSERT INTO $S.pupil_standing (student_id, start_year, term, scope, current, period)
       SELECT * FROM unnest($8::text[], $9::int[], $10::int[], $11::jsonb[], $12::jsonb[], $13::jsonb[])
       ON CONFLICT (student_id, start_year, term)
       DO UPDATE SET scope = excluded.scope, current = excluded.current, period = excluded.period),
     p AS (
       INSERT INTO $S.perf (level, scope_id, start_year, term, subject_id, counters)
       SELECT l, sc, y, t, su, c::bigint[]
         FROM unnest($14::text[], $15::text[], $16::int[], $17::int[], $18::text[], $19::text[]) AS x(l, sc, y, t, su, c)
       ON CONFLICT (level, scope_id, start_year, term, subject_id) DO UPDATE SET ${ADD("counters", "perf")}, dirty = true),
     st AS (
       INSERT INTO $S.standing (level, scope_id, start_year, term, counters)
       SELECT l, sc, y, t, c::bigint[]
         FROM unnest($20::text[], $21::text[], $22::int[], $23::int[], $24::text[]) AS x(l, sc, y, t, c)
       ON CONFLICT (level, scope_id, start_year, term) DO UPDATE SET ${ADD("counters", "standing")}, dirty = true),
     d AS (
       INSERT INTO $S.daily (level, scope_id, subject_id, day, attendance, journal)
       SELECT l, sc, su, day, a::bigint[], j::bigint[]
         FROM unnest($25::text[], $26::text[], $27::text[], $28::date[], $29::text[], $30::text[]) AS x(l, sc, su, day, a, j)
       ON CONFLICT (level, scope_id, subject_id, day) DO UPDATE SET ${ADD("attendance", "daily")}, ${ADD("journal", "daily")}, dirty = true)
     SELECT 1`,
    params,
  );
}
