import { type EventStore, openServiceDatabase } from "@otmetka/eventstore";
import { migrateIdentityDatabase } from "./migrations.js";

/** Creates the database if needed, migrates it, and returns the event store on one pool. */
export function openIdentityDatabase(databaseUrl: string): Promise<EventStore> {
  return openServiceDatabase({ databaseUrl, migrate: migrateIdentityDatabase });
}
