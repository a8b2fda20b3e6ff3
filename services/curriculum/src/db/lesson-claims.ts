import type { CivilDate } from "@otmetka/service-kit";
import { type Claim, type ClaimHolder, type ClaimRow, claimKey } from "../domain/lesson-claims.js";

/*
 * The lesson_claims table (migration 2026-11-30_101): who or what holds (school, year, date,
 * period, teacher|room). Its primary key is the rule "one lesson per teacher or room and
 * period": two commands that place lessons concurrently in different class groups (different
 * streams) cannot both commit the same claim; the later one fails on the key, re-reads and
 * is refused (or, in generation, skips the lesson).
 */

export interface Query {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

export const CLAIMS_PKEY = "lesson_claims_pkey";

export const CREATE_CLAIMS_SQL = `
  CREATE TABLE IF NOT EXISTS lesson_claims (
    school_id text NOT NULL,
    start_year int NOT NULL,
    date text NOT NULL,
    period smallint NOT NULL,
    claim text NOT NULL,
    lesson_id text NOT NULL,
    class_group_id text NOT NULL,
    CONSTRAINT ${CLAIMS_PKEY} PRIMARY KEY (school_id, start_year, date, period, claim)
  );
  CREATE INDEX IF NOT EXISTS lesson_claims_lesson ON lesson_claims (lesson_id)`;

/*
 * Migration 2026-11-30_102 drops lesson_claims_lesson: rows are deleted by their key (the
 * state before the events names them), and keeping an index of random lesson ids cost a
 * school year's generation about a third of the claims' write.
 */
export const DROP_CLAIMS_LESSON_INDEX_SQL = "DROP INDEX IF EXISTS lesson_claims_lesson";
export const CREATE_CLAIMS_LESSON_INDEX_SQL =
  "CREATE INDEX IF NOT EXISTS lesson_claims_lesson ON lesson_claims (lesson_id)";

/**
 * `rows` in one statement; `skipTaken` keeps the first holder (only the backfill uses it).
 * The rows go as one JSON document: a class group's year is ~2,000 rows, and pg's escaping
 * of seven text arrays of that size cost Node ~10 ms per class group (JSON.stringify ~1).
 */
export async function insertClaims(db: Query, rows: readonly ClaimRow[], skipTaken = false) {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO lesson_claims (school_id, start_year, date, period, claim, lesson_id, class_group_id)
     SELECT "schoolId", "startYear", date, period, claim, "lessonId", "classGroupId"
       FROM json_to_recordset($1::json) AS r("schoolId" text, "startYear" int, date text,
            period smallint, claim text, "lessonId" text, "classGroupId" text)
     ${skipTaken ? "ON CONFLICT DO NOTHING" : ""}`,
    [JSON.stringify(rows)],
  );
}

/**
 * Deletes `removed` (by the primary key, and only while their lesson holds them) and inserts
 * `rows`, one statement each, in the caller's transaction.
 */
export async function writeClaims(
  db: Query,
  change: { removed: readonly ClaimRow[]; rows: readonly ClaimRow[] },
) {
  const first = change.removed[0];
  if (first) {
    await db.query(
      `DELETE FROM lesson_claims c
        USING unnest($3::text[], $4::smallint[], $5::text[], $6::text[]) AS r(date, period, claim, lesson_id)
        WHERE c.school_id = $1 AND c.start_year = $2 AND c.date = r.date AND c.period = r.period
          AND c.claim = r.claim AND c.lesson_id = r.lesson_id`,
      [
        first.schoolId,
        first.startYear,
        change.removed.map((r) => r.date),
        change.removed.map((r) => r.period),
        change.removed.map((r) => r.claim),
        change.removed.map((r) => r.lessonId),
      ],
    );
  }
  await insertClaims(db, change.rows);
}

export interface WantedClaim {
  date: CivilDate;
  period: number;
  claim: Claim;
}

/** Of `wanted`, the claims some lesson holds, with their holder (key: claimKey). */
export async function heldClaims(
  db: Query,
  school: { schoolId: string; startYear: number },
  wanted: readonly WantedClaim[],
): Promise<Map<string, ClaimHolder>> {
  if (wanted.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT c.date, c.period, c.claim, c.lesson_id, c.class_group_id
       FROM unnest($3::text[], $4::smallint[], $5::text[]) AS w(date, period, claim)
       JOIN lesson_claims c ON c.school_id = $1 AND c.start_year = $2
        AND c.date = w.date AND c.period = w.period AND c.claim = w.claim`,
    [
      school.schoolId,
      school.startYear,
      wanted.map((w) => w.date),
      wanted.map((w) => w.period),
      wanted.map((w) => w.claim),
    ],
  );
  return byKey(rows);
}

/** Every claim held in a school's [from, to]: one range scan of the primary key. */
export async function claimsBetween(
  db: Query,
  school: { schoolId: string; startYear: number },
  from: CivilDate,
  to: CivilDate,
): Promise<Map<string, ClaimHolder>> {
  const { rows } = await db.query(
    `SELECT date, period, claim, lesson_id, class_group_id FROM lesson_claims
      WHERE school_id = $1 AND start_year = $2 AND date BETWEEN $3 AND $4`,
    [school.schoolId, school.startYear, from, to],
  );
  return byKey(rows);
}

function byKey(rows: unknown[]): Map<string, ClaimHolder> {
  const held = new Map<string, ClaimHolder>();
  for (const r of rows as {
    date: string;
    period: number;
    claim: string;
    lesson_id: string;
    class_group_id: string;
  }[])
    held.set(claimKey(r.date, r.period, r.claim), {
      lessonId: r.lesson_id,
      classGroupId: r.class_group_id,
    });
  return held;
}
