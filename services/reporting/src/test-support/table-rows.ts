import type pg from "pg";

/** Aggregate tables: key columns and counter columns (their snapshots add `known_day`). */
const AGGREGATES: Record<string, { key: string[]; counters: string[] }> = {
  perf: { key: ["level", "scope_id", "start_year", "term", "subject_id"], counters: ["counters"] },
  standing: { key: ["level", "scope_id", "start_year", "term"], counters: ["counters"] },
  daily: { key: ["level", "scope_id", "subject_id", "day"], counters: ["attendance", "journal"] },
};

/**
 * Every row of `schema.table` as sorted JSON text without its `seq` column: two read models
 * (live and rebuilt) compare equal when these do.
 *
 * Aggregate rows that never held anything but zeros are left out, with their all-zero
 * snapshots: whether such a row exists depends on how events fell into batches (a lesson
 * scheduled and cancelled in one batch adds nothing; in two it leaves a row at zero), which
 * live runners decide by timing. A reader cannot tell them from a missing row. A zero row or
 * snapshot after a non-zero snapshot of its key is kept (it is what "as of" reads).
 */
export async function tableRows(pool: pg.Pool, schema: string, table: string): Promise<string[]> {
  const base = table.endsWith("_h") ? table.slice(0, -2) : table;
  const agg = AGGREGATES[base];
  const t = `"${schema}"."${table}"`;
  let where = "";
  if (agg) {
    const zero = (alias: string) => agg.counters.map((c) => `0 = ALL(${alias}.${c})`).join(" AND ");
    const sameKey = agg.key.map((k) => `h.${k} = t.${k}`).join(" AND ");
    const before = table === base ? "" : " AND h.known_day < t.known_day";
    where = ` WHERE NOT (${zero("t")} AND NOT EXISTS (SELECT 1 FROM "${schema}"."${base}_h" h
      WHERE ${sameKey}${before} AND NOT (${zero("h")})))`;
  }
  const r = await pool.query<{ r: string }>(
    `SELECT (to_jsonb(t) - 'seq')::text AS r FROM ${t} t${where}`,
  );
  return r.rows.map((x) => x.r).sort();
}
