import { migrateServiceSchema } from "@otmetka/eventstore";
import { type Kysely, type Migration, sql } from "kysely";

/*
 * Grades' own tables (schema `grades`), after the event store's schema, in one Migrator.
 * - notes: free text about a pupil (mark comments, excusal notes), kept out of the event log
 *   so that the pupil's erasure (identity's PersonErased) can delete it;
 * - work_type_weights: each school's table of work types, written with its
 *   WorkTypeWeightsSet event and read on every mark.
 */
const gradesMigrations: Record<string, Migration> = {
  "2026-11-28_101_grades_tables": {
    async up(db) {
      await sql`CREATE SCHEMA IF NOT EXISTS grades`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS grades.notes (
        note_id text PRIMARY KEY,
        person_id text NOT NULL,
        text text NOT NULL,
        written_at timestamptz NOT NULL DEFAULT now()
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS notes_person ON grades.notes (person_id)`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS grades.work_type_weights (
        school_id text PRIMARY KEY,
        weights jsonb NOT NULL,
        version bigint NOT NULL
      )`.execute(db);
    },
  },
};

export async function migrateGradesDatabase(db: Kysely<unknown>): Promise<void> {
  // kysely's default bookkeeping table, as the service used before the shared helper.
  await migrateServiceSchema(db, "grades", gradesMigrations, {
    migrationTable: "kysely_migration",
  });
}
