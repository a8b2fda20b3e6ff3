import { type EventStore, openServiceDatabase } from "@otmetka/eventstore";
import { migrateGradesDatabase } from "./migrations.js";

/** Creates the database if needed, migrates it, and returns the event store on one pool. */
export function openGradesDatabase(databaseUrl: string): Promise<EventStore> {
  return openServiceDatabase({ databaseUrl, migrate: migrateGradesDatabase });
}
