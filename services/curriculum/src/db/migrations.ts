import { migrateServiceSchema } from "@otmetka/eventstore";
import { CompiledQuery, type Kysely, type Migration } from "kysely";
import { type ClaimRow, claimRow } from "../domain/lesson-claims.js";
import { foldLessons } from "../domain/lessons.js";
import {
  CREATE_CLAIMS_INDEXES_SQL,
  CREATE_CLAIMS_SQL,
  insertClaims,
  type Query,
} from "./lesson-claims.js";

/*
 * Curriculum's own tables come after the event store's schema, in one Migrator (explicit
 * provider: kysely's file provider cannot import .ts). The calendar and the subject catalogue
 * are small aggregates read straight from their streams, so they need no tables yet.
 * Migrations are frozen: 101 and 102 write the two-row table of their time, 103 converts it.
 */
export const curriculumMigrations: Record<string, Migration> = {
  "2026-11-30_101_curriculum_lesson_claims": {
    async up(db) {
      const q = queryOf(db);
      for (const statement of LEGACY_CREATE_SQL) await q.query(statement, []);
      await forEachStreamsClaims(q, (rows) => q.query(LEGACY_INSERT_SQL, [JSON.stringify(rows)]));
    },
    async down(db) {
      await queryOf(db).query("DROP TABLE IF EXISTS lesson_claims", []);
    },
  },
  "2026-11-30_102_curriculum_lesson_claims_by_key": {
    async up(db) {
      await queryOf(db).query("DROP INDEX IF EXISTS lesson_claims_lesson", []);
    },
    async down(db) {
      await queryOf(db).query(LEGACY_CREATE_SQL[1] as string, []);
    },
  },
  "2026-11-30_103_curriculum_lesson_claims_one_row": {
    /*
     * One row a lesson instead of one per claim (teacher, room): half the rows generation
     * writes. A lesson's rows become one (its teacher and room columns from its `teacher:`
     * and `room:` rows); the old key admitted one holder per claim, so the new unique
     * indexes hold on the converted rows. A lesson the first backfill gave only one of its
     * claims keeps just that one (teacher_id or room NULL). The lock keeps an instance still
     * running the old code from writing between the copy and the drop (it then fails on the
     * new shape: its whole append is rolled back, nothing lost).
     */
    async up(db) {
      const q = queryOf(db);
      await q.query("LOCK TABLE lesson_claims IN ACCESS EXCLUSIVE MODE", []);
      await q.query("ALTER TABLE lesson_claims RENAME TO lesson_claims_by_claim", []);
      await q.query(CREATE_CLAIMS_SQL, []);
      await q.query(
        `INSERT INTO lesson_claims
           (school_id, start_year, date, period, teacher_id, room, lesson_id, class_group_id)
         SELECT school_id, start_year, date, period,
                max(substr(claim, 9)) FILTER (WHERE claim LIKE 'teacher:%'),
                max(substr(claim, 6)) FILTER (WHERE claim LIKE 'room:%'),
                lesson_id, class_group_id
           FROM lesson_claims_by_claim
          GROUP BY school_id, start_year, date, period, lesson_id, class_group_id`,
        [],
      );
      await q.query("DROP TABLE lesson_claims_by_claim", []);
      for (const statement of CREATE_CLAIMS_INDEXES_SQL) await q.query(statement, []);
    },
    async down(db) {
      const q = queryOf(db);
      await q.query("LOCK TABLE lesson_claims IN ACCESS EXCLUSIVE MODE", []);
      await q.query("ALTER TABLE lesson_claims RENAME TO lesson_claims_one_row", []);
      await q.query(LEGACY_CREATE_SQL[0] as string, []);
      await q.query(
        `INSERT INTO lesson_claims (school_id, start_year, date, period, claim, lesson_id, class_group_id)
         SELECT school_id, start_year, date, period, c.claim, lesson_id, class_group_id
           FROM lesson_claims_one_row,
                LATERAL (VALUES ('teacher:' || teacher_id), ('room:' || room)) AS c(claim)
          WHERE c.claim IS NOT NULL`,
        [],
      );
      await q.query("DROP TABLE lesson_claims_one_row", []);
    },
  },
};

/** Migration 101's table: one row per claim (`teacher:<id>`, `room:<room>`), keyed by it. */
const LEGACY_CREATE_SQL = [
  `CREATE TABLE IF NOT EXISTS lesson_claims (
    school_id text NOT NULL,
    start_year int NOT NULL,
    date text NOT NULL,
    period smallint NOT NULL,
    claim text NOT NULL,
    lesson_id text NOT NULL,
    class_group_id text NOT NULL,
    CONSTRAINT lesson_claims_pkey PRIMARY KEY (school_id, start_year, date, period, claim)
  )`,
  "CREATE INDEX IF NOT EXISTS lesson_claims_lesson ON lesson_claims (lesson_id)",
];

/** Migration 101's backfill into that table: a lesson's claims, each kept by its first holder. */
const LEGACY_INSERT_SQL = `
  INSERT INTO lesson_claims (school_id, start_year, date, period, claim, lesson_id, class_group_id)
  SELECT r."schoolId", r."startYear", r.date, r.period, c.claim, r."lessonId", r."classGroupId"
    FROM json_to_recordset($1::json) AS r("schoolId" text, "startYear" int, date text,
         period smallint, "teacherId" text, room text, "lessonId" text, "classGroupId" text),
         LATERAL (VALUES ('teacher:' || r."teacherId"), ('room:' || NULLIF(r.room, ''))) AS c(claim)
   WHERE c.claim IS NOT NULL
  ON CONFLICT DO NOTHING`;

const queryOf = (db: Kysely<unknown>): Query => ({
  query: (text, values) => db.executeQuery(CompiledQuery.raw(text, values)),
});

/** The claims of the lessons in the log, a lessons stream at a time. */
async function forEachStreamsClaims(q: Query, write: (rows: ClaimRow[]) => Promise<unknown>) {
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
    for (const l of foldLessons(events as { type: string; data: unknown }[]).lessons.values()) {
      const row = claimRow(l);
      if (row) rows.push(row);
    }
    if (rows.length > 0) await write(rows);
  }
}

/**
 * Rebuilds the claims from the log into an empty table. A double booking in the log keeps
 * the first lesson's row (the other holds nothing until it moves).
 */
export const backfillClaims = (q: Query) =>
  forEachStreamsClaims(q, (rows) => insertClaims(q, rows, true));

export async function migrateCurriculumDatabase(db: Kysely<unknown>): Promise<void> {
  // kysely's default bookkeeping table, as the service used before the shared helper.
  await migrateServiceSchema(db, "curriculum", curriculumMigrations, {
    migrationTable: "kysely_migration",
  });
}
