import type pg from "pg";

// Tables outside the read model: what waits for publication and the subscribers. They are
// written in the projection's batch transaction (outbox, dirty) so a publication is never
// lost or made without the state change that caused it.
const DDL = `
CREATE SCHEMA IF NOT EXISTS portal;
CREATE TABLE IF NOT EXISTS portal.outbox (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL,
  type text NOT NULL,
  kind text NOT NULL,
  key text NOT NULL,
  municipality_id text NOT NULL,
  school_id text NOT NULL,
  time timestamptz NOT NULL,
  data jsonb NOT NULL,
  -- set on a tombstone: after publishing it, every earlier message on the pupil's subjects goes
  purge_key text
);
CREATE TABLE IF NOT EXISTS portal.dirty (
  kind text NOT NULL,
  key text NOT NULL,
  due_at timestamptz NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS dirty_due ON portal.dirty (due_at);
CREATE TABLE IF NOT EXISTS portal.subscribers (
  name text PRIMARY KEY,
  transport text NOT NULL CHECK (transport IN ('nats', 'webhook')),
  account_id text NOT NULL,
  webhook_url text,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE portal.subscribers ADD COLUMN IF NOT EXISTS nkey text;
-- Bumped by every change: the debouncer deletes an entry only if nothing changed meanwhile.
ALTER TABLE portal.dirty ADD COLUMN IF NOT EXISTS gen bigint NOT NULL DEFAULT 0;
-- Set on a pupil's re-check (the snapshot taken again after PORTAL_RECHECK_MS, as reporting may
-- have lagged): the digest of the snapshot last enqueued, published again only if it differs,
-- and which re-check of the change this is. NULL on a change (published unless the pupil's
-- subject shows the same snapshot already, see pupil_snapshots).
ALTER TABLE portal.dirty ADD COLUMN IF NOT EXISTS published_digest text;
ALTER TABLE portal.dirty ADD COLUMN IF NOT EXISTS recheck int NOT NULL DEFAULT 0;
-- Per pupil subject whose latest message is a performance snapshot: that snapshot's digest
-- (as a re-check compares). Kept with every outbox row of a pupil subject (a withdrawal or a
-- tombstone deletes it), so the debouncer leaves out a snapshot the subject already shows.
CREATE TABLE IF NOT EXISTS portal.pupil_snapshots (
  portal_id text NOT NULL,
  municipality_id text NOT NULL,
  school_id text NOT NULL,
  digest text NOT NULL,
  PRIMARY KEY (portal_id, municipality_id, school_id)
);
CREATE TABLE IF NOT EXISTS portal.webhook_dead_letters (
  id bigserial PRIMARY KEY,
  subscriber text NOT NULL,
  stream_sequence bigint NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  reason text NOT NULL,
  error text NOT NULL,
  attempts int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscriber, stream_sequence)
);
`;

export async function migrate(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    // Instances starting together serialize on one lock instead of racing CREATE IF NOT EXISTS.
    await c.query("SELECT pg_advisory_lock(hashtext('otmetka_portal_migrate'))");
    await c.query(DDL);
  } finally {
    await c.query("SELECT pg_advisory_unlock(hashtext('otmetka_portal_migrate'))").catch(() => {});
    c.release();
  }
}
