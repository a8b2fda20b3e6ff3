import { migrateServiceSchema } from "@otmetka/eventstore";
import { useTestEnvironment } from "@otmetka/testing";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roomClaim, teacherClaim } from "../domain/lesson-claims.js";
import { heldClaims, writeClaims } from "./lesson-claims.js";
import { curriculumMigrations, migrateCurriculumDatabase } from "./migrations.js";

/*
 * A database migrated before the one-row claims (migrations 101-102, two rows a lesson) with
 * claims in it, then migrated to the latest: every claim keeps its holder, and the new
 * indexes still admit one holder per teacher and per room.
 */
const env = useTestEnvironment({ label: "curriculum_migrations" });
let pool: pg.Pool;
let db: Kysely<unknown>;

const school = { schoolId: "s-1", startYear: 2026 };
const d = "2026-09-07";
// Two-row shape: (date, period, claim, lesson, class group).
const legacy: [string, number, string, string, string][] = [
  [d, 1, "teacher:t-1", "L-a", "5a"], // a lesson with a teacher and a room
  [d, 1, "room:7", "L-a", "5a"],
  [d, 1, "teacher:t-2", "L-b", "5b"], // a lesson without a room
  [d, 1, "room:8", "L-c", "5c"], // held its room only (its teacher was double-booked)
  [d, 2, "teacher:t-1", "L-d", "5a"], // held its teacher only (its room was double-booked)
  [d, 2, "room:7", "L-e", "5b"],
];

beforeAll(async () => {
  const { url } = await env.createDatabase("claims_migration");
  pool = new pg.Pool({ connectionString: url, max: 1 });
  db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const { "2026-11-30_103_curriculum_lesson_claims_one_row": _, ...before } = curriculumMigrations;
  await migrateServiceSchema(db, "curriculum", before, { migrationTable: "kysely_migration" });
  for (const [date, period, claim, lessonId, classGroupId] of legacy)
    await pool.query(
      `INSERT INTO lesson_claims (school_id, start_year, date, period, claim, lesson_id, class_group_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [school.schoolId, school.startYear, date, period, claim, lessonId, classGroupId],
    );
  await migrateCurriculumDatabase(db);
});
afterAll(async () => {
  await db?.destroy();
});

const rows = async () =>
  (
    await pool.query(
      `SELECT period, teacher_id, room, lesson_id, class_group_id FROM lesson_claims
        ORDER BY period, lesson_id`,
    )
  ).rows;

describe("migration 103: one claims row a lesson", () => {
  it("merges a lesson's teacher and room rows, keeping partial holds as they were", async () => {
    expect(await rows()).toEqual([
      { period: 1, teacher_id: "t-1", room: "7", lesson_id: "L-a", class_group_id: "5a" },
      { period: 1, teacher_id: "t-2", room: null, lesson_id: "L-b", class_group_id: "5b" },
      { period: 1, teacher_id: null, room: "8", lesson_id: "L-c", class_group_id: "5c" },
      { period: 2, teacher_id: "t-1", room: null, lesson_id: "L-d", class_group_id: "5a" },
      { period: 2, teacher_id: null, room: "7", lesson_id: "L-e", class_group_id: "5b" },
    ]);
    const held = await heldClaims(pool, school, [
      { date: d, period: 1, claim: teacherClaim("t-1") },
      { date: d, period: 1, claim: roomClaim("8") },
      { date: d, period: 2, claim: roomClaim("7") },
      { date: d, period: 2, claim: teacherClaim("t-9") },
    ]);
    expect(Object.fromEntries(held)).toEqual({
      [`${d}|1|teacher:t-1`]: { lessonId: "L-a", classGroupId: "5a" },
      [`${d}|1|room:7`]: { lessonId: "L-a", classGroupId: "5a" },
      [`${d}|1|room:8`]: { lessonId: "L-c", classGroupId: "5c" },
      [`${d}|2|room:7`]: { lessonId: "L-e", classGroupId: "5b" },
    });
  });

  it("still admits one lesson per teacher and per room in a period; rows without a room do not clash", async () => {
    const row = (lessonId: string, teacherId: string, room: string, period = 1) => ({
      ...school,
      date: d,
      period,
      teacherId,
      room,
      lessonId,
      classGroupId: "5d",
    });
    const code = (p: Promise<unknown>) => p.then(() => "ok").catch((e) => e.code);
    const write = (r: ReturnType<typeof row>) =>
      code(writeClaims(pool, { removed: [], rows: [r] }));
    expect(await write(row("L-x", "t-1", ""))).toBe("23505"); // L-a's teacher
    expect(await write(row("L-x", "t-3", "8"))).toBe("23505"); // L-c's room
    expect(await write(row("L-x", "t-3", ""))).toBe("ok");
    expect(await write(row("L-y", "t-4", ""))).toBe("ok");
    // A converted partial row goes by its lesson: L-c's room is free again.
    await writeClaims(pool, { removed: [row("L-c", "t-1", "8")], rows: [] });
    expect(await write(row("L-z", "t-5", "8"))).toBe("ok");
  });
});
