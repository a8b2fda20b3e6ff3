import { migrateServiceSchema } from "@otmetka/eventstore";
import type { Kysely, Migration } from "kysely";

/*
 * Curriculum's own tables come after the event store's schema, in one Migrator (explicit
 * provider: kysely's file provider cannot import .ts). The calendar and the subject catalogue
 * are small aggregates read straight from their streams, so they need no tables yet.
 */
const curriculumMigrations: Record<string, Migration> = {};

export async function migrateCurriculumDatabase(db: Kysely<unknown>): Promise<void> {
  // kysely's default bookkeeping table, as the service used before the shared helper.
  await migrateServiceSchema(db, "curriculum", curriculumMigrations, {
    migrationTable: "kysely_migration",
  });
}
