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

/** `rows` in one statement; `skipTaken` keeps the first holder (only the backfill uses it). */
export async function insertClaims(db: Query, rows: readonly ClaimRow[], skipTaken = false) {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO lesson_claims (school_id, start_year, date, period, claim, lesson_id, class_group_id)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::smallint[], $5::text[], $6::text[], $7::text[])
     ${skipTaken ? "ON CONFLICT DO NOTHING" : ""}`,
    [
      rows.map((r) => r.schoolId),
      rows.map((r) => r.startYear),
      rows.map((r) => r.date),
      rows.map((r) => r.period),
      rows.map((r) => r.claim),
      rows.map((r) => r.lessonId),
      rows.map((r) => r.classGroupId),
    ],
  );
}

/** Replaces the rows of `lessonIds` (of one class group) with `rows`, in the caller's transaction. */
export async function writeClaims(
  db: Query,
  change: { classGroupId: string; lessonIds: readonly string[]; rows: readonly ClaimRow[] },
) {
  if (change.lessonIds.length > 0) {
    await db.query(
      "DELETE FROM lesson_claims WHERE lesson_id = ANY($1::text[]) AND class_group_id = $2",
      [change.lessonIds, change.classGroupId],
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
  const held = new Map<string, ClaimHolder>();
  if (wanted.length === 0) return held;
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
