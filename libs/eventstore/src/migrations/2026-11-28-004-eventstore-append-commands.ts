import { type Kysely, sql } from "kysely";

/**
 * appendCommands' batch in one statement (one round trip, one commit): the streams' locks,
 * then, before any write, "nothing recorded yet and every stream at its expected version",
 * then the command records and the events. When that check fails it writes nothing and
 * answers `{"separately": true}`; a command id a concurrent run recorded meanwhile raises
 * OTE02, which undoes the statement. Either way the caller appends each command alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION eventstore.append_commands(
      p_stream_ids      text[],
      p_expected        bigint[],
      p_event_streams   integer[],
      p_event_ids       uuid[],
      p_types           text[],
      p_schema_versions integer[],
      p_data            jsonb[],
      p_metadata        jsonb[],
      p_command_ids     text[],
      p_command_hashes  text[],
      p_command_results jsonb[]
    )
    RETURNS jsonb
    LANGUAGE plpgsql
    AS $fn$
    DECLARE
      v_current bigint[];
      v_new bigint[];
      v_expected bigint;
      v_actual bigint;
      v_s integer;
      v_rows bigint;
    BEGIN
      v_current := eventstore.lock_streams(p_stream_ids);

      IF EXISTS (SELECT 1 FROM eventstore.commands WHERE command_id = ANY (p_command_ids)) THEN
        RETURN jsonb_build_object('separately', true);
      END IF;
      FOR i IN 1 .. coalesce(array_length(p_stream_ids, 1), 0) LOOP
        v_expected := p_expected[i];
        v_actual := v_current[i];
        IF (v_expected >= 0 AND v_actual <> v_expected)
           OR (v_expected = -2 AND v_actual <> 0)
           OR (v_expected = -3 AND v_actual = 0) THEN
          RETURN jsonb_build_object('separately', true);
        END IF;
      END LOOP;

      -- The first write: assigns this transaction's id, after the locks.
      INSERT INTO eventstore.commands (command_id, payload_hash, result)
        SELECT * FROM unnest(p_command_ids, p_command_hashes, p_command_results)
        ON CONFLICT (command_id) DO NOTHING;
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      IF v_rows <> coalesce(array_length(p_command_ids, 1), 0) THEN
        RAISE EXCEPTION 'a command of the batch was recorded concurrently'
          USING ERRCODE = 'OTE02';
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
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS eventstore.append_commands(text[], bigint[], integer[], uuid[],
    text[], integer[], jsonb[], jsonb[], text[], text[], jsonb[])`.execute(db);
}
