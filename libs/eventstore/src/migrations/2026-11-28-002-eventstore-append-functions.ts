import { type Kysely, sql } from "kysely";
import { STREAM_LOCK_CLASS } from "./schema-names.js";

/**
 * Server-side functions of the write path, so that an append is one round trip.
 *
 * Both take the transaction-scoped advisory locks of all their streams, in sorted order
 * (no deadlock between crossing multi-stream appends), BEFORE the first write. An advisory
 * lock does not assign a transaction id; the first write does. So a transaction's xid8 is
 * assigned only once it owns its streams, and two transactions writing the same stream get
 * xids in the order they wrote it — which is the order readAll delivers them in.
 *
 * Expected-version codes: >= 0 exact version, -1 any, -2 no stream, -3 stream exists.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Locks the streams and returns their current versions (0 = no stream). Raises
  // OTE01 when the transaction already wrote (its xid would predate its locks).
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
      SELECT coalesce(array_agg(coalesce(st.version, 0) ORDER BY u.ord), '{}')
        INTO v_versions
        FROM unnest(p_stream_ids) WITH ORDINALITY AS u(stream_id, ord)
        LEFT JOIN eventstore.streams st ON st.stream_id = u.stream_id;
      RETURN v_versions;
    END
    $fn$`.execute(db);

  // The hot path: one stream, no command. Same rules as append_events with fewer
  // statements (measured ~2x faster per call). Returns the new version, or -1 - actual
  // version when the expected version is not met (nothing written then).
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
      v_n integer := coalesce(array_length(p_event_ids, 1), 0);
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append must be the first write of its transaction'
          USING ERRCODE = 'OTE01';
      END IF;
      PERFORM pg_advisory_xact_lock(${sql.lit(STREAM_LOCK_CLASS)}, hashtext(p_stream_id));
      SELECT version INTO v_current FROM eventstore.streams WHERE stream_id = p_stream_id;
      v_current := coalesce(v_current, 0);
      IF (p_expected >= 0 AND v_current <> p_expected)
         OR (p_expected = -2 AND v_current <> 0)
         OR (p_expected = -3 AND v_current = 0) THEN
        RETURN -1 - v_current;
      END IF;
      IF v_n = 0 THEN
        RETURN v_current;
      END IF;
      INSERT INTO eventstore.events
          (stream_id, stream_version, event_id, type, schema_version, data, metadata)
        SELECT p_stream_id, v_current + e.ord, e.event_id, e.type, e.schema_version, e.data, e.metadata
          FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
               WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, ord)
         ORDER BY e.ord;
      -- Under the stream's lock nobody else creates or moves this row.
      IF v_current = 0 THEN
        INSERT INTO eventstore.streams (stream_id, version) VALUES (p_stream_id, v_n);
      ELSE
        UPDATE eventstore.streams SET version = v_current + v_n, updated_at = now()
         WHERE stream_id = p_stream_id;
      END IF;
      RETURN v_current + v_n;
    END
    $fn$`.execute(db);

  // The append of the write path (one statement). Returns one of
  //   {"versions": [...]}                       appended; new version of each stream
  //   {"conflict": {"index": i, "actual": v}}   expected version of stream i not met
  //   {"command": {"hash": h, "result": r}}     this command id is already recorded
  // A conflict or a known command writes nothing.
  await sql`
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
      v_current := eventstore.lock_streams(p_stream_ids);

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

      INSERT INTO eventstore.streams AS st (stream_id, version)
        SELECT p_stream_ids[i], v_new[i]
          FROM generate_subscripts(p_stream_ids, 1) AS i
         WHERE v_new[i] > v_current[i]
        ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, updated_at = now();

      RETURN jsonb_build_object('versions', to_jsonb(v_new));
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS eventstore.append_events(text[], bigint[], integer[], uuid[], text[], integer[], jsonb[], jsonb[], text, text, jsonb)`.execute(
    db,
  );
  await sql`DROP FUNCTION IF EXISTS eventstore.append_stream(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[])`.execute(
    db,
  );
  await sql`DROP FUNCTION IF EXISTS eventstore.lock_streams(text[])`.execute(db);
}
