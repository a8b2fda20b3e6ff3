import type pg from "pg";
import type { AppendParams } from "./append-params.js";
import type { AppendResultJson } from "./copy-append.js";
import { STREAM_LOCK_CLASS } from "./migrations/schema-names.js";

/*
 * The hot path: one stream at an exact version, outside a caller's transaction. One plain
 * INSERT instead of a plpgsql call, and no version row to update. It takes the stream's
 * advisory lock (so the locked multi-stream path never meets it half-way) before its first
 * write; the row for version `expected` must be committed (EXISTS sees only committed rows);
 * and the unique index on (stream_id, stream_version) refuses a second writer of a version.
 * Version n is committed before n+1 is written and a transaction's xid is assigned at its
 * first write, so a stream's writers get ascending xids — what readAll's ordering needs.
 */
const LOCKED = `(SELECT pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, hashtext($1::text))) AS locked`;
const VERSION_COMMITTED = `($2::bigint = 0 OR EXISTS (SELECT 1 FROM eventstore.events
    WHERE stream_id = $1::text AND stream_version = $2::bigint))`;

/*
 * With a command record (appendCommand of one stream): the record is inserted under the same
 * lock and version check, as the statement's first write, `ON CONFLICT DO NOTHING`; the events
 * are inserted only for the record's returned row. A command id already recorded (committed,
 * even after the statement's snapshot: the key check sees it, and waits for a concurrent
 * insert of it to end) writes nothing at all; a version taken meanwhile fails on the unique
 * index and undoes the record too. Against append_events (plpgsql: a function call, a nested
 * lock_streams call, four statements planned and run) this is one statement with a cached
 * plan, about half the PostgreSQL CPU an append (README, "Idempotent commands").
 */
const CLAIMED = `claimed AS (
  INSERT INTO eventstore.commands (command_id, payload_hash, result)
  SELECT $8::text, $9::text, $10::jsonb
    FROM ${LOCKED}
   WHERE ${VERSION_COMMITTED}
  ON CONFLICT (command_id) DO NOTHING
  RETURNING 1)`;

const INSERT = `INSERT INTO eventstore.events
    (stream_id, stream_version, event_id, type, schema_version, data, metadata)`;

/** One event: scalar parameters. */
const ONE = `SELECT $1::text, $2::bigint + 1, $3::uuid, $4::text, $5::int, $6::jsonb, $7::jsonb`;

/** Several events: arrays, in order. */
const MANY = `SELECT $1::text, $2::bigint + e.ord, e.event_id, e.type, e.schema_version, e.data, e.metadata`;
const MANY_ROWS = `unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
           WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, ord)`;

const SQL = {
  one: `${INSERT} ${ONE} FROM ${LOCKED} WHERE ${VERSION_COMMITTED} RETURNING stream_version`,
  many: `${INSERT} ${MANY} FROM ${LOCKED}, ${MANY_ROWS} WHERE ${VERSION_COMMITTED}
   ORDER BY e.ord RETURNING stream_version`,
  commandOne: `WITH ${CLAIMED} ${INSERT} ${ONE} FROM claimed RETURNING stream_version`,
  commandMany: `WITH ${CLAIMED} ${INSERT} ${MANY} FROM claimed, ${MANY_ROWS}
   ORDER BY e.ord RETURNING stream_version`,
} as const;

/** The unique index whose violation means "another writer took this version first". */
const STREAM_VERSION_KEY = "events_stream_version_key";

/** What the command statement needs besides the events. */
export interface ExactCommand {
  commandId: string;
  hash: string;
  result: unknown;
}

/**
 * Inserts `p`'s events (one stream, at least one event) after version `expected`, with the
 * command's record when given. False when nothing was written: version `expected` is not
 * committed, another writer took the next one, or (with a command) its id is recorded.
 */
export async function insertExact(
  pool: pg.Pool,
  p: AppendParams,
  expected: number,
  command?: ExactCommand,
): Promise<boolean> {
  const one = p.eventIds.length === 1;
  const values: unknown[] = one
    ? [p.streamIds[0], expected, p.eventIds[0], p.types[0], p.schemaVersions[0], p.data[0]]
    : [p.streamIds[0], expected, p.eventIds, p.types, p.schemaVersions, p.data];
  values.push(one ? p.metadata[0] : p.metadata);
  if (command) {
    values.push(command.commandId, command.hash, JSON.stringify(command.result ?? null));
  }
  const kind = command ? (one ? "commandOne" : "commandMany") : one ? "one" : "many";
  try {
    const { rowCount } = await pool.query({
      name: `eventstore_exact_${kind}`,
      text: SQL[kind],
      values,
    });
    return rowCount === p.eventIds.length;
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e.code !== "23505" || e.constraint !== STREAM_VERSION_KEY) throw err;
    return false;
  }
}

const WHY_NOT_SQL = `SELECT
  (SELECT json_build_object('hash', payload_hash, 'result', result)
     FROM eventstore.commands WHERE command_id = $1) AS command,
  (SELECT coalesce(max(stream_version), 0) FROM eventstore.events WHERE stream_id = $2) AS version`;

/**
 * appendCommand of one stream at an exact version, answered as append_events answers: the
 * new version, or (nothing written) the stored command of this id — checked first, as the
 * function does — else the stream's actual version as a conflict. The second statement
 * runs only when nothing was written (a retry that got past the caller's lookup, or a race).
 */
export async function appendCommandExact(
  pool: pg.Pool,
  p: AppendParams,
  expected: number,
  command: ExactCommand,
): Promise<AppendResultJson> {
  if (await insertExact(pool, p, expected, command)) {
    return { versions: [expected + p.eventIds.length] };
  }
  const { rows } = await pool.query<{
    command: { hash: string; result: unknown } | null;
    version: string;
  }>({
    name: "eventstore_exact_why_not",
    text: WHY_NOT_SQL,
    values: [command.commandId, p.streamIds[0]],
  });
  const r = rows[0]!;
  return r.command ? { command: r.command } : { conflict: { index: 0, actual: r.version } };
}
