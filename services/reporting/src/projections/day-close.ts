import type { Q } from "./query.js";

/**
 * The zone of the recorded-time clock. Region 74 lies in one zone; a region spanning zones
 * would need a clock per zone (README "Not done yet").
 */
export const CLOCK_ZONE = "Asia/Yekaterinburg";

/** The open day of the recorded-time clock (null before the first event). */
export async function readOpenDay(q: Q): Promise<string | null> {
  const [row] = await q<{ day: string }>("SELECT day::text AS day FROM $S.day_clock", []);
  return row?.day ?? null;
}

export async function writeOpenDay(q: Q, day: string): Promise<void> {
  await q(
    `INSERT INTO $S.day_clock (one, day) VALUES (true, $1::date)
     ON CONFLICT (one) DO UPDATE SET day = excluded.day`,
    [day],
  );
}

/**
 * Closes `day`: every aggregate row changed since the previous close is copied, as it stands
 * now (the end of `day` by the events' recorded times), into its snapshot table, and its
 * dirty flag cleared. One statement; a day without changes writes nothing. "As of D,
 * recorded" is then the latest snapshot at or before D of each row.
 */
export async function closeDay(q: Q, day: string): Promise<void> {
  await q(
    `WITH p AS (UPDATE $S.perf SET dirty = false WHERE dirty
                RETURNING level, scope_id, start_year, term, subject_id, counters),
          ph AS (INSERT INTO $S.perf_h (level, scope_id, start_year, term, subject_id, known_day, counters)
                 SELECT level, scope_id, start_year, term, subject_id, $1::date, counters FROM p
                 ON CONFLICT (level, scope_id, start_year, term, subject_id, known_day)
                 DO UPDATE SET counters = excluded.counters),
          s AS (UPDATE $S.standing SET dirty = false WHERE dirty
                RETURNING level, scope_id, start_year, term, counters),
          sh AS (INSERT INTO $S.standing_h (level, scope_id, start_year, term, known_day, counters)
                 SELECT level, scope_id, start_year, term, $1::date, counters FROM s
                 ON CONFLICT (level, scope_id, start_year, term, known_day)
                 DO UPDATE SET counters = excluded.counters),
          d AS (UPDATE $S.daily SET dirty = false WHERE dirty
                RETURNING level, scope_id, subject_id, day, attendance, journal)
     INSERT INTO $S.daily_h (level, scope_id, subject_id, day, known_day, attendance, journal)
     SELECT level, scope_id, subject_id, day, $1::date, attendance, journal FROM d
     ON CONFLICT (level, scope_id, subject_id, day, known_day)
     DO UPDATE SET attendance = excluded.attendance, journal = excluded.journal`,
    [day],
  );
}
