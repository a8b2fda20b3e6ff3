import { migrateServiceSchema } from "@otmetka/eventstore";
import { CompiledQuery, type Kysely, type Migration } from "kysely";
import { type ClaimRow, claimRows } from "../domain/lesson-claims.js";
import { foldLessons } from "../domain/lessons.js";
import {
  CREATE_CLAIMS_LESSON_INDEX_SQL,
  CREATE_CLAIMS_SQL,
  DROP_CLAIMS_LESSON_INDEX_SQL,
  insertClaims,
  type Query,
} from "./lesson-claims.js";

/*
 * Curriculum's own tables come after the event store's schema, in one Migrator (explicit
 * provider: kysely's file provider cannot import .ts). The calendar and the subject catalogue
 * are small aggregates read straight from their streams, so they need no tables yet.
 */
const curriculumMigrations: Record<string, Migration> = {
  "2026-11-30_101_curriculum_lesson_claims": {
    async up(db) {
      const q = queryOf(db);
      for (const statement of CREATE_CLAIMS_SQL.split(";")) await q.query(statement, []);
      await backfillClaims(q);
    },
    async down(db) {
      await queryOf(db).query("DROP TABLE IF EXISTS lesson_claims", []);
    },
  },
  "2026-11-30_102_curriculum_lesson_claims_by_key": {
    async up(db) {
      await queryOf(db).query(DROP_CLAIMS_LESSON_INDEX_SQL, []);
    },
    async down(db) {
      await queryOf(db).query(CREATE_CLAIMS_LESSON_INDEX_SQL, []);
    },
  },
};

const queryOf = (db: Kysely<unknown>): Query => ({
  query: (text, values) => db.executeQuery(CompiledQuery.raw(text, values)),
});

/**
 * The claims of the lessons already in the log, stream by stream. A double booking made
 * before the table existed keeps the first lesson's claim (the other holds none until it moves).
 */
export async function backfillClaims(q: Query) {
  const { rows: streams } = await q.query(
    "SELECT DISTINCT stream_id FROM eventstore.events WHERE stream_id LIKE 'lessons-%'",
    [],
  );
  for (const { stream_id } of streams as { stream_id: string }[]) {
    const { rows: events } = await q.query(
      "SELECT type, data FROM eventstore.events WHERE stream_id = $1 ORDER BY stream_version",
      [stream_id],
    );
    const rows: ClaimRow[] = [];
    for (const l of foldLessons(events as { type: string; data: unknown }[]).lessons.values())
      rows.push(...claimRows(l));
    await insertClaims(q, rows, true);
  }
}

export async function migrateCurriculumDatabase(db: Kysely<unknown>): Promise<void> {
  // kysely's default bookkeeping table, as the service used before the shared helper.
  await migrateServiceSchema(db, "curriculum", curriculumMigrations, {
    migrationTable: "kysely_migration",
  });
}
