import { type Kysely, sql } from "kysely";

/**
 * Tables of the event store. Every statement is idempotent (IF NOT EXISTS), so that a
 * service may run these migrations through its own Migrator or through migrateEventStore.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS eventstore`.execute(db);

  // One row per stream: its current version (= number of events). The append function
  // reads it under the stream's advisory lock.
  await sql`
    CREATE TABLE IF NOT EXISTS eventstore.streams (
      stream_id   text PRIMARY KEY CHECK (stream_id <> ''),
      version     bigint NOT NULL CHECK (version >= 0),
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // The log. `transaction_id` is the writing transaction's xid8; readAll orders by
  // (transaction_id, position) and reads only below the snapshot's xmin (see README).
  await sql`
    CREATE TABLE IF NOT EXISTS eventstore.events (
      position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id       text NOT NULL,
      stream_version  bigint NOT NULL CHECK (stream_version >= 1),
      event_id        uuid NOT NULL,
      type            text NOT NULL,
      schema_version  integer NOT NULL DEFAULT 1 CHECK (schema_version >= 1),
      data            jsonb NOT NULL,
      metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
      recorded_at     timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT events_event_id_key UNIQUE (event_id),
      CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
    )`.execute(db);
  await sql`
    CREATE INDEX IF NOT EXISTS events_log_order
      ON eventstore.events (transaction_id, position)`.execute(db);

  // Idempotent commands: written in the same transaction as the command's events.
  await sql`
    CREATE TABLE IF NOT EXISTS eventstore.commands (
      command_id    text PRIMARY KEY CHECK (command_id <> ''),
      payload_hash  text NOT NULL,
      result        jsonb,
      recorded_at   timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // Optional aggregate snapshots; the service's serializer keeps personal data out of them.
  await sql`
    CREATE TABLE IF NOT EXISTS eventstore.snapshots (
      stream_id       text PRIMARY KEY,
      version         bigint NOT NULL CHECK (version >= 1),
      schema_version  integer NOT NULL,
      state           jsonb NOT NULL,
      taken_at        timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Tables only: the schema may also hold the Migrator's own table (migrateEventStore).
  for (const table of ["snapshots", "commands", "events", "streams"]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(`eventstore.${table}`)}`.execute(db);
  }
}
