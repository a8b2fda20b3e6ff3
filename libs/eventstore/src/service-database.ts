import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { EventStore } from "./event-store.js";
import { MIGRATION_LOCK_CLASS } from "./migrations/schema-names.js";
import type { Upcasters } from "./upcasters.js";

/**
 * Creates the service's database when the server does not have it yet (first start against a
 * fresh server), connecting to the server's `postgres` database to do so. Safe when several
 * instances start at once.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (name === "") return;
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((err: unknown) => {
        // Another instance created it at the same moment: "already exists" (42P04), or the
        // catalog's unique index caught the race first (23505).
        const code = (err as { code?: string }).code;
        if (code !== "42P04" && code !== "23505") throw err;
      });
    }
  } finally {
    await client.end();
  }
}

export interface ServiceDatabaseOptions {
  databaseUrl: string;
  /** Runs the service's migrations (the event store's and its own) on a short-lived connection. */
  migrate(db: Kysely<unknown>): Promise<void>;
  upcasters?: Upcasters;
}

/**
 * Creates the database if needed, migrates it, and returns the event store on its own pool.
 * Instances starting together migrate one after the other: a session lock on the single
 * migration connection, since DDL like CREATE TABLE IF NOT EXISTS still races in PostgreSQL.
 */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<EventStore> {
  await ensureDatabase(options.databaseUrl);
  const migrationPool = new pg.Pool({ connectionString: options.databaseUrl, max: 1 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: migrationPool }) });
  try {
    await sql`SELECT pg_advisory_lock(${MIGRATION_LOCK_CLASS}::int, 0)`.execute(db);
    await options.migrate(db);
  } finally {
    // Ending the connection releases the session lock, also when a migration failed.
    await db.destroy();
  }
  return EventStore.connect({
    connectionString: options.databaseUrl,
    ...(options.upcasters ? { upcasters: options.upcasters } : {}),
  });
}
