import type pg from "pg";

/**
 * Every row of `schema.table` as sorted JSON text without its `seq` column: two read models
 * (live and rebuilt) compare equal when these do.
 */
export async function tableRows(pool: pg.Pool, schema: string, table: string): Promise<string[]> {
  const r = await pool.query<{ r: string }>(
    `SELECT (to_jsonb(t) - 'seq')::text AS r FROM "${schema}"."${table}" t`,
  );
  return r.rows.map((x) => x.r).sort();
}
