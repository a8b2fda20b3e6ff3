import {
  attendanceToArray,
  journalToArray,
  perfToArray,
  standingToArray,
} from "./counters-codec.js";
import type { Deltas } from "./deltas.js";
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

const nonZero = (a: number[]) => a.some((x) => x !== 0);

/** Adds a batch's deltas to the aggregate rows: one statement per table (per chunk). */
export async function writeDeltas(q: Q, d: Deltas): Promise<void> {
  await upsertRows(
    q,
    "INSERT INTO $S.perf (level, scope_id, start_year, term, subject_id, basis, counters)",
    `ON CONFLICT (level, scope_id, start_year, term, subject_id, basis) DO UPDATE SET ${ADD("counters", "perf")}`,
    [...d.perf.values()]
      .map(({ key, c }) => [...key, perfToArray(c)])
      .filter((r) => nonZero(r[6] as number[])),
  );
  await upsertRows(
    q,
    "INSERT INTO $S.standing (level, scope_id, start_year, term, basis, counters)",
    `ON CONFLICT (level, scope_id, start_year, term, basis) DO UPDATE SET ${ADD("counters", "standing")}`,
    [...d.standing.values()]
      .map(({ key, c }) => [...key, standingToArray(c)])
      .filter((r) => nonZero(r[5] as number[])),
  );
  await upsertRows(
    q,
    "INSERT INTO $S.daily (level, scope_id, subject_id, day, attendance, journal)",
    `ON CONFLICT (level, scope_id, subject_id, day) DO UPDATE SET ${ADD("attendance", "daily")}, ${ADD("journal", "daily")}`,
    [...d.daily.values()]
      .map(({ key, c }) => [...key, attendanceToArray(c.att), journalToArray(c.journal)])
      .filter((r) => nonZero(r[4] as number[]) || nonZero(r[5] as number[])),
  );
}
