import type { CivilDate } from "@otmetka/service-kit";
import {
  type ClaimHolder,
  type ClaimRow,
  claimKey,
  claimTarget,
  roomClaim,
  teacherClaim,
  type WantedClaim,
} from "../domain/lesson-claims.js";

/*
 * The lesson_claims table: which lesson holds a teacher and which a room in (school, year,
 * date, period). One row a lesson (migration 2026-11-30_103), with a unique index on its
 * teacher and a partial one on its room (lessons without a room hold none). The indexes are
 * the rule "one lesson per teacher or room and period": two commands that place lessons
 * concurrently in different class groups (different streams) cannot both commit the same
 * teacher or room; the later one fails on the index, re-reads and is refused (or, in
 * generation, skips the lesson).
 *
 * `teacher_id` is NULL only in rows converted from the two-row table for a lesson that held
 * its room but not its teacher (a double booking made before the claims existed, which the
 * first backfill gave to the other lesson); the code writes it always.
 */

export interface Query {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/** The one-row-a-lesson table and its indexes (created after the rows are in: cheaper). */
export const CREATE_CLAIMS_SQL = `
  CREATE TABLE lesson_claims (
    school_id text NOT NULL,
    start_year int NOT NULL,
    date text NOT NULL,
    period smallint NOT NULL,
    teacher_id text,
    room text,
    lesson_id text NOT NULL,
    class_group_id text NOT NULL,
    CONSTRAINT lesson_claims_holds_something CHECK (teacher_id IS NOT NULL OR room IS NOT NULL)
  )`;
export const CREATE_CLAIMS_INDEXES_SQL = [
  `CREATE UNIQUE INDEX lesson_claims_teacher
     ON lesson_claims (school_id, start_year, date, period, teacher_id)`,
  `CREATE UNIQUE INDEX lesson_claims_room
     ON lesson_claims (school_id, start_year, date, period, room) WHERE room IS NOT NULL`,
];

/**
 * `rows` in one statement; `skipTaken` keeps the first holder (only the backfill uses it).
 * The rows go as one JSON document: a class group's year is ~1,000 rows, and pg's escaping
 * of text arrays of that size cost Node ~10 ms per class group (JSON.stringify ~1).
 */
export async function insertClaims(db: Query, rows: readonly ClaimRow[], skipTaken = false) {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO lesson_claims
       (school_id, start_year, date, period, teacher_id, room, lesson_id, class_group_id)
     SELECT "schoolId", "startYear", date, period, "teacherId", NULLIF(room, ''), "lessonId",
            "classGroupId"
       FROM json_to_recordset($1::json) AS r("schoolId" text, "startYear" int, date text,
            period smallint, "teacherId" text, room text, "lessonId" text, "classGroupId" text)
     ${skipTaken ? "ON CONFLICT DO NOTHING" : ""}`,
    [JSON.stringify(rows)],
  );
}

/**
 * Deletes the rows of `removed` (by their lesson, in the date and period the state before
 * the events names: the teacher index's prefix, a few dozen entries) and inserts `rows`, one
 * statement each, in the caller's transaction. All rows are of one school and year.
 */
export async function writeClaims(
  db: Query,
  change: { removed: readonly ClaimRow[]; rows: readonly ClaimRow[] },
) {
  const first = change.removed[0];
  if (first) {
    await db.query(
      `DELETE FROM lesson_claims c
        USING unnest($3::text[], $4::smallint[], $5::text[]) AS r(date, period, lesson_id)
        WHERE c.school_id = $1 AND c.start_year = $2 AND c.date = r.date AND c.period = r.period
          AND c.lesson_id = r.lesson_id`,
      [
        first.schoolId,
        first.startYear,
        change.removed.map((r) => r.date),
        change.removed.map((r) => r.period),
        change.removed.map((r) => r.lessonId),
      ],
    );
  }
  await insertClaims(db, change.rows);
}

/**
 * Of `wanted`, the claims some lesson holds, with their holder (key: claimKey), in one
 * statement: the teachers through their index, the rooms through theirs. A holder's other
 * claim (its room when its teacher was asked) is in the map too: it holds it as well.
 */
export async function heldClaims(
  db: Query,
  school: { schoolId: string; startYear: number },
  wanted: readonly WantedClaim[],
): Promise<Map<string, ClaimHolder>> {
  if (wanted.length === 0) return new Map();
  const teachers: WantedClaim[] = [];
  const rooms: WantedClaim[] = [];
  for (const w of wanted) (claimTarget(w.claim).kind === "teacher" ? teachers : rooms).push(w);
  const target = (w: WantedClaim) => claimTarget(w.claim).name;
  const { rows } = await db.query(
    `SELECT c.date, c.period, c.teacher_id, c.room, c.lesson_id, c.class_group_id
       FROM unnest($3::text[], $4::smallint[], $5::text[]) AS w(date, period, teacher_id)
       JOIN lesson_claims c ON c.school_id = $1 AND c.start_year = $2
        AND c.date = w.date AND c.period = w.period AND c.teacher_id = w.teacher_id
     UNION ALL
     SELECT c.date, c.period, c.teacher_id, c.room, c.lesson_id, c.class_group_id
       FROM unnest($6::text[], $7::smallint[], $8::text[]) AS w(date, period, room)
       JOIN lesson_claims c ON c.school_id = $1 AND c.start_year = $2
        AND c.date = w.date AND c.period = w.period AND c.room = w.room
      WHERE c.room IS NOT NULL`,
    [
      school.schoolId,
      school.startYear,
      teachers.map((w) => w.date),
      teachers.map((w) => w.period),
      teachers.map(target),
      rooms.map((w) => w.date),
      rooms.map((w) => w.period),
      rooms.map(target),
    ],
  );
  return byKey(rows);
}

/** Every claim held in a school's [from, to]: one range scan of the teacher index. */
export async function claimsBetween(
  db: Query,
  school: { schoolId: string; startYear: number },
  from: CivilDate,
  to: CivilDate,
): Promise<Map<string, ClaimHolder>> {
  const { rows } = await db.query(
    `SELECT date, period, teacher_id, room, lesson_id, class_group_id FROM lesson_claims
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
    teacher_id: string | null;
    room: string | null;
    lesson_id: string;
    class_group_id: string;
  }[]) {
    const holder = { lessonId: r.lesson_id, classGroupId: r.class_group_id };
    if (r.teacher_id !== null)
      held.set(claimKey(r.date, r.period, teacherClaim(r.teacher_id)), holder);
    if (r.room !== null) held.set(claimKey(r.date, r.period, roomClaim(r.room)), holder);
  }
  return held;
}
