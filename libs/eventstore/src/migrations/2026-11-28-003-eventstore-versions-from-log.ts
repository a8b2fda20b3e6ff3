import { type Kysely, sql } from "kysely";
import * as previous from "./2026-11-28-002-eventstore-append-functions.js";
import { STREAM_LOCK_CLASS } from "./schema-names.js";

/**
 * Stream versions come from the log itself, not from a row per stream: the current version is
 * `max(stream_version)`, one probe of the `(stream_id, stream_version)` unique index. The
 * streams table was a second row written with every append; it is dropped (with the plain
 * INSERT of the client's hot path, pgbench at 8-64 clients went from 0.5-0.75x a raw INSERT to
 * 0.8-0.95x). The unique index is also what makes the lock-free single-stream append
 * of the client safe (see event-store.ts, "hot path"); the functions keep their advisory locks
 * for multi-stream appends and command records.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION eventstore.lock_streams(p_stream_ids text[])
    RETURNS bigint[]
    LANGUAGE plpgsql
    AS $fn$
    DECLARE
      v_key integer;
      v_versions bigint[];
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append must be the first write of its transaction'
          USING ERRCODE = 'OTE01';
      END IF;
      FOR v_key IN SELECT DISTINCT hashtext(s) FROM unnest(p_stream_ids) AS s ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(${sql.lit(STREAM_LOCK_CLASS)}, v_key);
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

  await sql`
    CREATE OR REPLACE FUNCTION eventstore.append_stream(
      p_stream_id       text,
      p_expected        bigint,
      p_event_ids       uuid[],
      p_types           text[],
      p_schema_versions integer[],
      p_data            jsonb[],
      p_metadata        jsonb[]
    )
    RETURNS bigint
    LANGUAGE plpgsql
    AS $fn$
    DECLARE
      v_current bigint;
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append must be the first write of its transaction'
          USING ERRCODE = 'OTE01';
      END IF;
      PERFORM pg_advisory_xact_lock(${sql.lit(STREAM_LOCK_CLASS)}, hashtext(p_stream_id));
      SELECT coalesce(max(stream_version), 0) INTO v_current
        FROM eventstore.events WHERE stream_id = p_stream_id;
      IF (p_expected >= 0 AND v_current <> p_expected)
         OR (p_expected = -2 AND v_current <> 0)
         OR (p_expected = -3 AND v_current = 0) THEN
        RETURN -1 - v_current;
      END IF;
      INSERT INTO eventstore.events
          (stream_id, stream_version, event_id, type, schema_version, data, metadata)
        SELECT p_stream_id, v_current + e.ord, e.event_id, e.type, e.schema_version, e.data, e.metadata
          FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
               WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, ord)
         ORDER BY e.ord;
      RETURN v_current + coalesce(array_length(p_event_ids, 1), 0);
    END
    $fn$`.execute(db);

  await appendEvents({ guardsShared: false }).execute(db);

  await sql`DROP TABLE IF EXISTS eventstore.streams`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Back to 002: the streams table, filled from the log, and 002's functions.
  await sql`
    CREATE TABLE eventstore.streams (
      stream_id   text PRIMARY KEY CHECK (stream_id <> ''),
      version     bigint NOT NULL CHECK (version >= 0),
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    INSERT INTO eventstore.streams (stream_id, version)
    SELECT stream_id, max(stream_version) FROM eventstore.events GROUP BY stream_id`.execute(db);
  await previous.up(db);
}

/**
 * append_events' definition; `guardsShared`: streams the append writes no event to (expected
 * versions only: guards) are locked shared (008), else every stream exclusive (this one).
 */
export const appendEvents = (o: { guardsShared: boolean }) => sql`
    CREATE OR REPLACE FUNCTION eventstore.append_events(
      p_stream_ids      text[],
      p_expected        bigint[],
      p_event_streams   integer[],
      p_event_ids       uuid[],
      p_types           text[],
      p_schema_versions integer[],
      p_data            jsonb[],
      p_metadata        jsonb[],
      p_command_id      text DEFAULT NULL,
      p_command_hash    text DEFAULT NULL,
      p_command_result  jsonb DEFAULT NULL
    )
    RETURNS jsonb
    LANGUAGE plpgsql
    AS $fn$
    DECLARE
      v_current bigint[];
      v_new bigint[];
      v_expected bigint;
      v_actual bigint;
      v_stored record;
      v_s integer;
      v_n integer := coalesce(array_length(p_stream_ids, 1), 0);
    BEGIN
      v_current := ${o.guardsShared ? sql`eventstore.lock_streams(p_stream_ids, p_event_streams)` : sql`eventstore.lock_streams(p_stream_ids)`};

      -- A command recorded before we got the locks: replay its result.
      IF p_command_id IS NOT NULL THEN
        SELECT payload_hash, result INTO v_stored
          FROM eventstore.commands WHERE command_id = p_command_id;
        IF FOUND THEN
          RETURN jsonb_build_object('command',
            jsonb_build_object('hash', v_stored.payload_hash, 'result', v_stored.result));
        END IF;
      END IF;

      FOR i IN 1 .. v_n LOOP
        v_expected := p_expected[i];
        v_actual := v_current[i];
        IF (v_expected >= 0 AND v_actual <> v_expected)
           OR (v_expected = -2 AND v_actual <> 0)
           OR (v_expected = -3 AND v_actual = 0) THEN
          RETURN jsonb_build_object('conflict', jsonb_build_object('index', i - 1, 'actual', v_actual));
        END IF;
      END LOOP;

      -- The first write: assigns this transaction's id, after the locks.
      IF p_command_id IS NOT NULL THEN
        INSERT INTO eventstore.commands (command_id, payload_hash, result)
          VALUES (p_command_id, p_command_hash, p_command_result)
          ON CONFLICT (command_id) DO NOTHING;
        IF NOT FOUND THEN
          -- A concurrent run of the same command (on other streams or none) committed first.
          SELECT payload_hash, result INTO v_stored
            FROM eventstore.commands WHERE command_id = p_command_id;
          RETURN jsonb_build_object('command',
            jsonb_build_object('hash', v_stored.payload_hash, 'result', v_stored.result));
        END IF;
      END IF;

      INSERT INTO eventstore.events
          (stream_id, stream_version, event_id, type, schema_version, data, metadata)
        SELECT p_stream_ids[e.s],
               v_current[e.s] + row_number() OVER (PARTITION BY e.s ORDER BY e.ord),
               e.event_id, e.type, e.schema_version, e.data, e.metadata
          FROM unnest(p_event_streams, p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
               WITH ORDINALITY AS e(s, event_id, type, schema_version, data, metadata, ord)
         ORDER BY e.ord;

      v_new := v_current;
      FOREACH v_s IN ARRAY p_event_streams LOOP
        v_new[v_s] := v_new[v_s] + 1;
      END LOOP;

      RETURN jsonb_build_object('versions', to_jsonb(v_new));
    END
    $fn$`;
