import { type Kysely, sql } from "kysely";

/**
 * appendCommands' batch as one JSON document instead of eleven array parameters:
 * `{"streams": [{"id", "expected"}], "events": [{"s", "id", "type", "v", "data", "metadata"}],
 * "commands": [{"id", "hash", "result"}]}` (`s`: 1-based index into streams). The client makes
 * it with one JSON.stringify; pg's array literals escaped every quote of every event's JSON
 * (the largest allocation of the grades server under load) and PostgreSQL parsed them back.
 * A record set's row estimate does not depend on the value either, so the function's
 * statements keep their cached generic plans. Same checks and answers as append_commands
 * (004), which stays for instances still running the previous code.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await appendCommandsJson({ precheckCommands: true }).execute(db);
}

/**
 * The function's definition; `precheckCommands`: look the batch's command ids up before any
 * write (this migration; 006 drops the lookup, see there); `recordedIds`: what an id already
 * recorded does at the records' insert, `raise` OTE02 (005, 006) or `undo` the batch's own
 * records and answer `separately` (007).
 */
export const appendCommandsJson = (o: {
  precheckCommands: boolean;
  recordedIds?: "raise" | "undo";
}) => sql`
    CREATE OR REPLACE FUNCTION eventstore.append_commands_json(p jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql
    AS $fn$
    DECLARE
      v_stream_ids text[];
      v_expected bigint[];
      v_current bigint[];
      v_new bigint[];
      v_exp bigint;
      v_actual bigint;
      v_s integer;
      v_rows bigint;
      v_recorded text[];
    BEGIN
      SELECT coalesce(array_agg(s.e->>'id' ORDER BY s.ord), '{}'),
             coalesce(array_agg((s.e->>'expected')::bigint ORDER BY s.ord), '{}')
        INTO v_stream_ids, v_expected
        FROM jsonb_array_elements(p->'streams') WITH ORDINALITY AS s(e, ord);
      v_current := eventstore.lock_streams(v_stream_ids);
${o.precheckCommands ? COMMANDS_PRECHECK : sql``}
      FOR i IN 1 .. coalesce(array_length(v_stream_ids, 1), 0) LOOP
        v_exp := v_expected[i];
        v_actual := v_current[i];
        IF (v_exp >= 0 AND v_actual <> v_exp)
           OR (v_exp = -2 AND v_actual <> 0)
           OR (v_exp = -3 AND v_actual = 0) THEN
          RETURN jsonb_build_object('separately', true);
        END IF;
      END LOOP;

      -- The first write: assigns this transaction's id, after the locks.
${(o.recordedIds ?? "raise") === "raise" ? RECORDS_OR_RAISE : RECORDS_OR_UNDO}

      INSERT INTO eventstore.events
          (stream_id, stream_version, event_id, type, schema_version, data, metadata)
        SELECT v_stream_ids[e.s],
               v_current[e.s] + row_number() OVER (PARTITION BY e.s ORDER BY e.ord),
               e.id, e.type, e.v, e.data, e.metadata
          FROM ROWS FROM (jsonb_to_recordset(p->'events')
                 AS (s integer, id uuid, type text, v integer, data jsonb, metadata jsonb))
               WITH ORDINALITY AS e(s, id, type, v, data, metadata, ord)
         ORDER BY e.ord;

      v_new := v_current;
      FOR v_s IN SELECT (e->>'s')::integer FROM jsonb_array_elements(p->'events') e LOOP
        v_new[v_s] := v_new[v_s] + 1;
      END LOOP;
      RETURN jsonb_build_object('versions', to_jsonb(v_new));
    END
    $fn$`;

const RECORDS_OR_RAISE = sql`
      INSERT INTO eventstore.commands (command_id, payload_hash, result)
        SELECT c.id, c.hash, coalesce(c.result, 'null'::jsonb)
          FROM jsonb_to_recordset(p->'commands') AS c(id text, hash text, result jsonb)
        ON CONFLICT (command_id) DO NOTHING;
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      IF v_rows <> jsonb_array_length(p->'commands') THEN
        RAISE EXCEPTION 'a command of the batch was recorded concurrently'
          USING ERRCODE = 'OTE02';
      END IF;
`;

// Nothing but the records is written yet, so deleting the ones this call inserted undoes it.
const RECORDS_OR_UNDO = sql`
      WITH inserted AS (
        INSERT INTO eventstore.commands (command_id, payload_hash, result)
          SELECT c.id, c.hash, coalesce(c.result, 'null'::jsonb)
            FROM jsonb_to_recordset(p->'commands') AS c(id text, hash text, result jsonb)
          ON CONFLICT (command_id) DO NOTHING
          RETURNING command_id)
      SELECT coalesce(array_agg(command_id), '{}') INTO v_recorded FROM inserted;
      IF cardinality(v_recorded) <> jsonb_array_length(p->'commands') THEN
        DELETE FROM eventstore.commands WHERE command_id = ANY(v_recorded);
        RETURN jsonb_build_object('separately', true);
      END IF;
`;

const COMMANDS_PRECHECK = sql`
      IF EXISTS (SELECT 1 FROM eventstore.commands
                  WHERE command_id IN (SELECT c->>'id' FROM jsonb_array_elements(p->'commands') c)) THEN
        RETURN jsonb_build_object('separately', true);
      END IF;
`;

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS eventstore.append_commands_json(jsonb)`.execute(db);
}
