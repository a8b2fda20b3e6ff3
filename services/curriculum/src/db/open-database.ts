import { EventStore } from "@otmetka/eventstore";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { ensureDatabase } from "./ensure-database.js";
import { migrateCurriculumDatabase } from "./migrations.js";

/** Creates the database if needed, migrates it, and returns the event store on one pool. */
export async function openCurriculumDatabase(databaseUrl: string): Promise<EventStore> {
  await ensureDatabase(databaseUrl);
  const migrationPool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: migrationPool }) });
  try {
    await migrateCurriculumDatabase(db);
  } finally {
    await db.destroy();
  }
  return EventStore.connect({ connectionString: databaseUrl });
}
