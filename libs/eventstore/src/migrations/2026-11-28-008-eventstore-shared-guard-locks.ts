import { type Kysely, sql } from "kysely";
import { appendEvents } from "./2026-11-28-003-eventstore-versions-from-log.js";
import { STREAM_LOCK_CLASS } from "./schema-names.js";

/**
 * A stream an append only expects at a version (a guard: `events: []`) is locked shared, the
 * streams it writes exclusive. Curriculum's generation expects the school's calendar and
 * timetable in every class group's append: with exclusive locks its eight concurrent class
 * groups committed one after another (bench:curriculum 0.51 → 0.38 of the bulk append).
 * Shared locks still keep what the guard is for: a writer of the guarded stream (exclusive)
 * waits for every append holding it shared, and an append waits for a writer in progress, so
 * the version an append checked cannot change before it commits. Keys are taken in one
 * sorted pass, shared or exclusive, as before, so holders cannot deadlock; a key that a
 * written stream hashes to is exclusive. appendCommands' batches (append_commands_json,
 * grades' group commit) keep every stream exclusive: their commands carry no guards, so
 * working out from each batch's JSON which streams it writes would cost the hot path and
 * gain nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION eventstore.lock_streams(p_stream_ids text[], p_written integer[])
    RETURNS bigint[]
    LANGUAGE plpgsql
    AS $fn$
    DECLARE
      v_key integer;
      v_exclusive boolean;
      v_versions bigint[];
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append must be the first write of its transaction'
          USING ERRCODE = 'OTE01';
      END IF;
      FOR v_key, v_exclusive IN
        SELECT hashtext(u.s), coalesce(bool_or(u.ord::integer = ANY (p_written)), true)
          FROM unnest(p_stream_ids) WITH ORDINALITY AS u(s, ord)
         GROUP BY 1 ORDER BY 1
      LOOP
        IF v_exclusive THEN
          PERFORM pg_advisory_xact_lock(${sql.lit(STREAM_LOCK_CLASS)}, v_key);
        ELSE
          PERFORM pg_advisory_xact_lock_shared(${sql.lit(STREAM_LOCK_CLASS)}, v_key);
        END IF;
      END LOOP;
      SELECT coalesce(array_agg(
               coalesce((SELECT max(e.stream_version) FROM eventstore.events e
                          WHERE e.stream_id = u.stream_id), 0)
               ORDER BY u.ord), '{}')
        INTO v_versions
        FROM unnest(p_stream_ids) WITH ORDINALITY AS u(stream_id, ord);
      RETURN v_versions;
    END
    $fn$`.execute(db);
  await appendEvents({ guardsShared: true }).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await appendEvents({ guardsShared: false }).execute(db);
  await sql`DROP FUNCTION IF EXISTS eventstore.lock_streams(text[], integer[])`.execute(db);
}
