import { EventStore } from "@otmetka/eventstore";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { ensureDatabase } from "./ensure-database.js";
import { migrateIdentityDatabase } from "./migrations.js";

/** Creates the database if needed, migrates it, and returns the event store on one pool. */
export async function openIdentityDatabase(databaseUrl: string): Promise<EventStore> {
  await ensureDatabase(databaseUrl);
  const migrationPool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: migrationPool }) });
  try {
    await migrateIdentityDatabase(db);
  } finally {
    await db.destroy();
  }
  return EventStore.connect({ connectionString: databaseUrl });
}
