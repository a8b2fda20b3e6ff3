import type pg from "pg";
import { parseInt8 } from "./int8.js";

/**
 * How an aggregate's state is snapshotted. `toSnapshot` must leave personal data out (or
 * keep only ids / encrypted values): the snapshots table is not covered by erasure.
 */
export interface SnapshotPolicy<State> {
  /** Version of the snapshot's shape; a stored snapshot of another version is ignored. */
  schemaVersion: number;
  /** Take a new snapshot when a load read at least this many events past the last one. */
  every: number;
  toSnapshot(state: State): unknown;
  fromSnapshot(data: unknown): State;
}

export interface StoredSnapshot {
  version: number;
  schemaVersion: number;
  state: unknown;
}

export async function loadSnapshot(
  pool: pg.Pool,
  streamId: string,
): Promise<StoredSnapshot | undefined> {
  const { rows } = await pool.query<{ version: string; schema_version: number; state: unknown }>({
    name: "eventstore_load_snapshot",
    text: "SELECT version, schema_version, state FROM eventstore.snapshots WHERE stream_id = $1",
    values: [streamId],
  });
  const row = rows[0];
  return row
    ? {
        version: parseInt8(row.version, "snapshots.version"),
        schemaVersion: row.schema_version,
        state: row.state,
      }
    : undefined;
}

/** Stores a snapshot unless a newer one of the same shape is already there. */
export async function saveSnapshot(
  pool: pg.Pool,
  streamId: string,
  snapshot: StoredSnapshot,
): Promise<void> {
  await pool.query({
    name: "eventstore_save_snapshot",
    text: `INSERT INTO eventstore.snapshots AS s (stream_id, version, schema_version, state)
           VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (stream_id) DO UPDATE
             SET version = excluded.version, schema_version = excluded.schema_version,
                 state = excluded.state, taken_at = now()
             WHERE s.version < excluded.version OR s.schema_version <> excluded.schema_version`,
    values: [streamId, snapshot.version, snapshot.schemaVersion, JSON.stringify(snapshot.state)],
  });
}
