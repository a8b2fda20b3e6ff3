import { randomUUID } from "node:crypto";
import { addDays, type CivilDate } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backfillClaims } from "../db/migrations.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import type { InProcess } from "../test-support/in-process.js";
import { refusal } from "../test-support/refusal.js";
import { startWithMathsYear } from "../test-support/school-year.js";
import { timetableHelpers } from "../test-support/timetable-helpers.js";
import { cancelLesson, generateLessons } from "./lessons.js";
import { assignSubstitute } from "./timetable.js";

/*
 * A teacher or a room holds one lesson per period across the school, whichever command
 * places the lesson (a move, a generation, a handover to a substitute) and wherever the
 * other lesson is (a moved one, one taught as a substitute).
 */
const env = useTestEnvironment({ label: "curriculum_double_booking" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const { a5, b5 } = f.classGroups;
const { math, rus, en1, en2, sub } = f.teachers;
const FROM = "2026-09-07"; // a Monday
const TO = "2026-09-25";
let en1Assignment = "";

const generate = (classGroupIds: string[]) =>
  generateLessons(app.deps, randomUUID(), { ...scope, from: FROM, to: TO, classGroupIds });

const { slot, lessonsOf, lessonOn, move } = timetableHelpers(() => app, scope, {
  from: FROM,
  to: TO,
});

/** Teachers and rooms holding two lessons in one period, across both class groups. */
async function doubleBookings(from: CivilDate = FROM, to: CivilDate = TO): Promise<string[]> {
  const seen = new Map<string, number>();
  for (const l of [...(await lessonsOf(a5, from, to)), ...(await lessonsOf(b5, from, to))]) {
    if (l.status !== "scheduled" && l.status !== "conducted") continue;
    const keys = [`${l.date} ${l.period} teacher ${l.teacherId}`];
    if (l.room !== "") keys.push(`${l.date} ${l.period} room ${l.room}`);
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

beforeAll(async () => {
  app = await startWithMathsYear(env, f);
  await slot(a5, 1, 1, math); // Mondays 5А
  await slot(b5, 2, 1, math); // Tuesdays 5Б
  await slot(a5, 3, 1, rus, "7"); // Wednesdays 5А, room 7
  await slot(a5, 5, 1, sub); // Fridays 5А: the substitute's own lessons
  en1Assignment = await slot(b5, 5, 2, en1); // Fridays 5Б period 2
});
afterAll(async () => {
  await app?.close();
});

describe("no teacher or room holds two lessons in one period", () => {
  it("generation skips (and counts) a lesson whose teacher or room a moved lesson of another class group holds", async () => {
    await generate([a5]);
    // 5Б has no lessons yet: the maths teacher is free on Tuesday, room 7 on Thursday.
    await move(a5, await lessonOn(a5, "2026-09-07", 1), "2026-09-08", 1);
    await move(a5, await lessonOn(a5, "2026-09-09", 1), "2026-09-10", 3);
    // A slot added after the move, in room 7 in the moved lesson's period.
    await slot(b5, 4, 3, en2, "7");
    const { result } = await generate([b5]);
    expect(await doubleBookings()).toEqual([]);
    expect(result).toMatchObject({ classGroups: 1, skipped: 2 });
    const b = await lessonsOf(b5);
    expect(b.some((l) => l.date === "2026-09-08" && l.period === 1)).toBe(false);
    expect(b.some((l) => l.date === "2026-09-10" && l.period === 3)).toBe(false);
    expect(b.some((l) => l.date === "2026-09-15" && l.period === 1)).toBe(true);
    // Nothing changed since: a regeneration appends nothing and skips the same two.
    expect((await generate([a5, b5])).result).toMatchObject({
      scheduled: 0,
      unscheduled: 0,
      teacherChanged: 0,
      skipped: 2,
    });
  });

  it("a move checks the substitute who takes the lesson on the target date", async () => {
    // The substitute covers 5Б's Friday lessons from 14 September: 18 and 25 September are
    // handed over with the substitution.
    const { result } = await assignSubstitute(app.deps, randomUUID(), {
      ...scope,
      assignmentId: en1Assignment,
      substituteId: sub,
      firstDay: "2026-09-14",
      lastDay: "2026-09-25",
    });
    expect(result).toEqual({ handedOver: 2 });
    expect((await lessonOn(b5, "2026-09-18", 2)).teacherId).toBe(sub);
    // A lesson from before the substitution, moved into it.
    const friday = await lessonOn(b5, "2026-09-11", 2);
    expect(friday.teacherId).toBe(en1);
    const own = await lessonOn(a5, "2026-09-18", 1);
    const busy = await refusal(move(b5, friday, "2026-09-18", 1));
    expect([busy.kind, busy.message]).toEqual([
      "failed_precondition",
      `to_period: teacher ${sub} already teaches lesson ${own.lessonId} (class group ${a5}) on 2026-09-18 period 1`,
    ]);
    // Into a free period it moves and goes to the substitute.
    await move(b5, friday, "2026-09-17", 4);
    expect(await lessonOn(b5, "2026-09-17", 4)).toMatchObject({
      lessonId: friday.lessonId,
      teacherId: sub,
    });
    expect(await doubleBookings()).toEqual([]);
  });

  it("a lesson taught as a substitute and moved out of the substitution goes back to its teacher", async () => {
    // 25 September was handed over with the substitution: nothing left to hand over.
    expect((await generate([b5])).result).toMatchObject({ teacherChanged: 0 });
    const covered = await lessonOn(b5, "2026-09-25", 2);
    expect(covered.teacherId).toBe(sub);
    await move(b5, covered, "2026-09-11", 3);
    // The substitute's own lesson into that period: they are free, en1 is not double-booked.
    await move(a5, await lessonOn(a5, "2026-09-25", 1), "2026-09-11", 3);
    expect(await doubleBookings()).toEqual([]);
    expect((await lessonOn(b5, "2026-09-11", 3)).teacherId).toBe(en1);
  });
});

describe("lesson claims", () => {
  it("a move and a generation racing for one teacher's period: one gets it, never both", async () => {
    const first = "2026-10-05"; // a Monday; 5 weeks from here, one a round
    await generateLessons(app.deps, randomUUID(), {
      ...scope,
      from: first,
      to: addDays(first, 7 * 5),
      classGroupIds: [a5],
    });
    for (let round = 0; round < 5; round++) {
      const monday = addDays(first, 7 * round);
      const tuesday = addDays(monday, 1);
      const lesson = await lessonOn(a5, monday, 1);
      const [moved, generated] = await Promise.allSettled([
        move(a5, lesson, tuesday, 1),
        generateLessons(app.deps, randomUUID(), {
          ...scope,
          from: tuesday,
          to: tuesday,
          classGroupIds: [b5],
        }),
      ]);
      expect(generated.status).toBe("fulfilled");
      const skipped = (generated as PromiseFulfilledResult<{ result: { skipped: number } }>).value
        .result.skipped;
      if (moved.status === "rejected") {
        expect(skipped).toBe(0);
        expect(moved.reason.message).toMatch(
          new RegExp(`^to_period: teacher ${math} already teaches`),
        );
      } else expect(skipped).toBe(1);
      expect(await doubleBookings(monday, addDays(monday, 6))).toEqual([]);
    }
  });

  it("the migration's backfill rebuilds the same claims from the lesson events", async () => {
    const read = async () =>
      (
        await app.store.pool.query(
          "SELECT * FROM lesson_claims ORDER BY school_id, start_year, date, period, teacher_id",
        )
      ).rows;
    // A cancelled lesson's rows go (deleted by their key), a moved one's follow it.
    const lesson = (await lessonsOf(b5)).find((l) => l.status === "scheduled");
    if (!lesson) throw new Error("no scheduled lesson of 5b");
    await cancelLesson(app.deps, randomUUID(), {
      ...scope,
      classGroupId: b5,
      lessonId: lesson.lessonId,
      reason: "excursion",
    });
    const before = await read();
    expect(before.length).toBeGreaterThan(20);
    expect(before.filter((r) => r.lesson_id === lesson.lessonId)).toEqual([]);
    await app.store.pool.query("DELETE FROM lesson_claims");
    await backfillClaims(app.store.pool);
    expect(await read()).toEqual(before);
  });
  it("a regeneration with nothing to do reads no claims", async () => {
    const statements: string[] = [];
    const pool = app.deps.store.pool;
    const query = pool.query.bind(pool);
    // The real pool, observed: which statements on lesson_claims the generation sends.
    pool.query = ((text: unknown, ...rest: unknown[]) => {
      const sql = typeof text === "string" ? text : (text as { text: string }).text;
      if (sql.includes("lesson_claims")) statements.push(sql.trim().split(/\s+/)[0] ?? "");
      return (query as (...a: unknown[]) => unknown)(text, ...rest);
    }) as typeof pool.query;
    try {
      const year = { ...scope, from: "2026-11-09", to: "2026-11-20", classGroupIds: [] };
      const first = await generateLessons(app.deps, randomUUID(), year);
      expect(first.result).toMatchObject({ skipped: 0 });
      expect(first.result.scheduled).toBeGreaterThan(0);
      expect(statements.length).toBeGreaterThan(0);
      statements.length = 0;
      const again = await generateLessons(app.deps, randomUUID(), year);
      expect(again.result).toMatchObject({ scheduled: 0, unscheduled: 0, teacherChanged: 0 });
      expect(statements).toEqual([]);
    } finally {
      pool.query = query;
    }
    expect(await doubleBookings("2026-11-09", "2026-11-20")).toEqual([]);
  });
});
