import type pg from "pg";

/** The counting handler's tables: one inbox row per event (first handling wins), every call counted. */
export async function createInbox(db: pg.Pool | pg.Client): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS inbox (
    seq bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    stream_id text NOT NULL,
    version int NOT NULL,
    instance text NOT NULL)`);
  await db.query(`CREATE TABLE IF NOT EXISTS handler_calls (
    event_id text NOT NULL,
    instance text NOT NULL)`);
}

/** Handles one event idempotently: the inbox row and the call count in one transaction. */
export async function recordHandled(
  db: pg.Pool,
  e: { eventId: string; streamId: string; version: number },
  instance: string,
): Promise<void> {
  await db.query(
    `WITH call AS (INSERT INTO handler_calls (event_id, instance) VALUES ($1, $4))
     INSERT INTO inbox (event_id, stream_id, version, instance) VALUES ($1, $2, $3, $4)
     ON CONFLICT (event_id) DO NOTHING`,
    [e.eventId, e.streamId, e.version, instance],
  );
}
