import { type EventStore, openServiceDatabase } from "@otmetka/eventstore";
import { migrateCurriculumDatabase } from "./migrations.js";

/** Creates the database if needed, migrates it, and returns the event store on one pool. */
export function openCurriculumDatabase(databaseUrl: string): Promise<EventStore> {
  return openServiceDatabase({ databaseUrl, migrate: migrateCurriculumDatabase });
}
