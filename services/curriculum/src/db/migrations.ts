import { eventStoreMigrations } from "@otmetka/eventstore";
import { type Kysely, type Migration, Migrator } from "kysely";

/*
 * Curriculum's own tables come after the event store's schema, in one Migrator (explicit
 * provider: kysely's file provider cannot import .ts). The calendar and the subject catalogue
 * are small aggregates read straight from their streams, so they need no tables yet.
 */
const curriculumMigrations: Record<string, Migration> = {};

export async function migrateCurriculumDatabase(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...eventStoreMigrations, ...curriculumMigrations }) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`curriculum migration ${failed} failed: ${String(error)}`);
  }
}
