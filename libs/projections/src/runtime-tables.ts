import type pg from "pg";
import type { Projection } from "./projection.js";
import { setAsideTableSql } from "./set-aside.js";
import { kyselyOn } from "./single-client-kysely.js";

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;
const lit = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * The runtime's own tables live inside the read model's schema, so that a blue/green swap
 * (renaming schemas) moves the checkpoints, inbox and pending events together with the rows
 * they describe.
 */
export async function createReadModelSchema(
  client: pg.PoolClient,
  projection: Projection<any>,
  schema: string,
  origin: "live" | "rebuild",
): Promise<void> {
  const s = q(schema);
  // One round trip: the simple protocol takes several statements, values as literals.
  const sources = projection.sources.map((x) => `(${lit(x.context)})`).join(", ");
  await client.query(
    [
      `CREATE SCHEMA ${s}`,
      `CREATE TABLE ${s}._meta (
    projection text NOT NULL, version int NOT NULL, origin text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE ${s}._checkpoint (
    source text PRIMARY KEY, seq bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now())`,
      // Event ids already applied: redeliveries and re-published copies change nothing.
      `CREATE TABLE ${s}._inbox (event_id text PRIMARY KEY)`,
      ...inboxAgeSql(s),
      `CREATE TABLE ${s}._pending (
    id bigserial PRIMARY KEY, awaiting text NOT NULL, stream_id text NOT NULL,
    event jsonb NOT NULL, parked_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE INDEX ON ${s}._pending (awaiting)`,
      `CREATE INDEX ON ${s}._pending (stream_id)`,
      ...setAsideTableSql(s),
      `INSERT INTO ${s}._meta (projection, version, origin)
    VALUES (${lit(projection.name)}, ${Math.trunc(projection.version)}, ${lit(origin)})`,
      `INSERT INTO ${s}._checkpoint (source) VALUES ${sources} ON CONFLICT DO NOTHING`,
    ].join(";\n"),
  );
  await projection.setup(kyselyOn(client).withSchema(schema), schema);
}

export async function addSources(
  client: pg.PoolClient,
  projection: Projection<any>,
  schema: string,
): Promise<void> {
  await client.query(
    `INSERT INTO ${q(schema)}._checkpoint (source) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`,
    [projection.sources.map((s) => s.context)],
  );
}

/**
 * When each inbox row was written, for pruning. A BRIN index: rows arrive in time order, so
 * it finds old ones for the cost of a few pages, where a btree would add a write per event.
 * Idempotent, so read models created before pruning existed get it on their next start.
 */
export async function ensureInboxAge(client: pg.PoolClient, schema: string): Promise<void> {
  await client.query(inboxAgeSql(q(schema)).join(";\n"));
}

/** Read models created before events were set aside get the table on their next start. */
export async function ensureSetAsideTable(client: pg.PoolClient, schema: string): Promise<void> {
  await client.query(setAsideTableSql(q(schema)).join(";\n"));
}

const inboxAgeSql = (s: string) => [
  `ALTER TABLE ${s}._inbox ADD COLUMN IF NOT EXISTS applied_at timestamptz NOT NULL DEFAULT now()`,
  `CREATE INDEX IF NOT EXISTS _inbox_applied_at ON ${s}._inbox USING brin (applied_at)`,
];

export async function schemaExists(client: pg.PoolClient | pg.Pool, schema: string) {
  const r = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
  return (r.rowCount ?? 0) > 0;
}

export async function readCheckpoints(
  client: pg.PoolClient | pg.Pool,
  schema: string,
): Promise<Map<string, number>> {
  const r = await client.query<{ source: string; seq: string }>(
    `SELECT source, seq FROM ${q(schema)}._checkpoint`,
  );
  return new Map(r.rows.map((row) => [row.source, Number(row.seq)]));
}

export async function readVersion(client: pg.PoolClient | pg.Pool, schema: string) {
  const r = await client.query<{ version: number }>(`SELECT version FROM ${q(schema)}._meta`);
  return r.rows[0]?.version ?? 0;
}

export { q as quoteIdent };
