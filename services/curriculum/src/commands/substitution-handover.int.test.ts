import { randomUUID } from "node:crypto";
import type { CivilDate } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timetableStreamId } from "../domain/timetable.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import { eventually, type InProcess } from "../test-support/in-process.js";
import { refusal } from "../test-support/refusal.js";
import { startWithMathsYear } from "../test-support/school-year.js";
import { timetableHelpers } from "../test-support/timetable-helpers.js";
import { conductLesson, generateLessons } from "./lessons.js";
import { assignSubstitute } from "./timetable.js";

/*
 * AssignSubstitute hands the covered lessons already generated to the substitute at once, in
 * its own transaction, with their claims: before, they stayed with the absent teacher until
 * someone regenerated.
 */
const env = useTestEnvironment({ label: "curriculum_substitution_handover" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const { a5, b5 } = f.classGroups;
const { math, rus, sub } = f.teachers;
const FROM = "2026-09-07"; // a Monday
const TO = "2026-10-16";
let mathA5 = ""; // 5А maths: Mondays period 1 (room 12), Wednesdays period 2
let rusB5 = ""; // 5Б: Tuesdays period 1

const { slot, lessonsOf, lessonOn, move, versions } = timetableHelpers(() => app, scope, {
  from: FROM,
  to: TO,
});

const substitute = (
  assignmentId: string,
  firstDay: CivilDate,
  lastDay: CivilDate,
  commandId = randomUUID(),
) =>
  assignSubstitute(app.deps, commandId, {
    ...scope,
    assignmentId,
    substituteId: sub,
    firstDay,
    lastDay,
  });

/** The lesson_claims rows of a class group's lessons in [from, to]: date, period, teacher. */
async function claims(classGroupId: string, from: CivilDate, to: CivilDate) {
  const { rows } = await app.store.pool.query(
    `SELECT date, period, teacher_id FROM lesson_claims
      WHERE class_group_id = $1 AND date BETWEEN $2 AND $3 ORDER BY date, period`,
    [classGroupId, from, to],
  );
  return rows.map((r) => [r.date, r.period, r.teacher_id]);
}

beforeAll(async () => {
  app = await startWithMathsYear(env, f);
  mathA5 = await slot(a5, 1, 1, math, "12");
  await slot(a5, 3, 2, math);
  await slot(b5, 1, 2, sub); // the substitute's own lessons: Mondays 5Б period 2
  rusB5 = await slot(b5, 2, 1, rus);
  await generateLessons(app.deps, randomUUID(), {
    ...scope,
    from: FROM,
    to: TO,
    classGroupIds: [],
  });
  app.deps.clock = { now: () => new Date("2026-09-09T04:00:00Z") }; // Wednesday 9 September
});
afterAll(async () => {
  await app?.close();
});

describe("AssignSubstitute hands the covered lessons over", () => {
  it("at once, with their claims; a lesson conducted stays with who taught it; a replay changes nothing", async () => {
    const conducted = await lessonOn(a5, "2026-09-07", 1);
    await conductLesson(app.deps, randomUUID(), {
      ...scope,
      classGroupId: a5,
      lessonId: conducted.lessonId,
      topic: "Натуральные числа",
      workProgrammeItemId: "",
      homework: "",
      homeworkDue: "",
      conductedBy: "",
    });
    // Entered on Wednesday for the whole week: Monday's lesson was conducted, the rest not.
    const commandId = randomUUID();
    const { result } = await substitute(mathA5, FROM, "2026-09-18", commandId);
    expect(result).toEqual({ handedOver: 3 });
    const teachers = (await lessonsOf(a5, FROM, "2026-09-21")).map((l) => [
      l.date,
      l.period,
      l.status,
      l.teacherId,
    ]);
    expect(teachers).toEqual([
      ["2026-09-07", 1, "conducted", math],
      ["2026-09-09", 2, "scheduled", sub],
      ["2026-09-14", 1, "scheduled", sub],
      ["2026-09-16", 2, "scheduled", sub],
      ["2026-09-21", 1, "scheduled", math],
    ]);
    expect(await claims(a5, FROM, "2026-09-21")).toEqual(
      teachers.map(([date, period, , teacher]) => [date, period, teacher]),
    );
    // The lessons read model (ListClassGroupLessons, GetTeacherDay) follows.
    await eventually(async () => {
      const day = await app.deps.lessons.teacherDay({
        ...scope,
        teacherId: sub,
        date: "2026-09-14",
      });
      expect(day.map((l) => [l.classGroupId, l.period])).toEqual([
        [a5, 1],
        [b5, 2],
      ]);
    });
    // The claims moved: the substitute's own lesson cannot go into a covered period.
    const own = await lessonOn(b5, "2026-09-14", 2);
    const held = await lessonOn(a5, "2026-09-16", 2);
    const busy = await refusal(move(b5, own, "2026-09-16", 2));
    expect(busy.message).toBe(
      `to_period: teacher ${sub} already teaches lesson ${held.lessonId} (class group ${a5}) on 2026-09-16 period 2`,
    );
    // A replay answers the same and writes nothing; a regeneration has nothing left to do.
    const before = await versions(a5, b5);
    expect(await substitute(mathA5, FROM, "2026-09-18", commandId)).toEqual({
      result: { handedOver: 3 },
      replayed: true,
    });
    expect(await versions(a5, b5)).toEqual(before);
    const again = await generateLessons(app.deps, randomUUID(), {
      ...scope,
      from: FROM,
      to: TO,
      classGroupIds: [],
    });
    expect(again.result).toMatchObject({ scheduled: 0, teacherChanged: 0, skipped: 0 });
  });

  it("a moved lesson goes to the teacher of the date it moved to", async () => {
    // 5Б's Russian of Tuesday 22 September, moved to Thursday 24 period 5.
    const lesson = await lessonOn(b5, "2026-09-22", 1);
    await move(b5, lesson, "2026-09-24", 5);
    // Covering Thursday 24 (not Tuesday 22) and Tuesday 29.
    const { result } = await substitute(rusB5, "2026-09-23", "2026-09-29");
    expect(result).toEqual({ handedOver: 2 });
    expect((await lessonOn(b5, "2026-09-24", 5)).teacherId).toBe(sub);
    expect((await lessonOn(b5, "2026-09-29", 1)).teacherId).toBe(sub);
    expect((await lessonOn(b5, "2026-10-06", 1)).teacherId).toBe(rus);
  });

  it("refuses the whole substitution, naming the date and period, where the substitute already teaches", async () => {
    // The substitute's own Monday 28 September lesson moved to Wednesday 30 period 2, where
    // 5А has maths: free for them until they cover it.
    const own = await lessonOn(b5, "2026-09-28", 2);
    await move(b5, own, "2026-09-30", 2);
    const covered = await lessonOn(a5, "2026-09-30", 2);
    const before = await versions(a5, b5);
    const claimsBefore = await claims(a5, "2026-09-21", "2026-10-02");
    const busy = await refusal(substitute(mathA5, "2026-09-21", "2026-10-02"));
    expect([busy.kind, busy.message]).toEqual([
      "failed_precondition",
      `substitute_id: teacher ${sub} already teaches lesson ${own.lessonId} (class group ${b5}) on 2026-09-30 period 2, when they would take lesson ${covered.lessonId} (MATH, class group ${a5})`,
    ]);
    // Nothing written: no substitution, no handover (Monday 21 and 28 stay the teacher's).
    expect(await versions(a5, b5)).toEqual(before);
    expect(await claims(a5, "2026-09-21", "2026-10-02")).toEqual(claimsBefore);
    expect((await lessonOn(a5, "2026-09-21", 1)).teacherId).toBe(math);
    // Without the clashing day it goes through.
    expect((await substitute(mathA5, "2026-09-21", "2026-09-29")).result).toEqual({
      handedOver: 3,
    });
  });

  it("a generation planned on the timetable before the substitution does not hand the lessons back", async () => {
    const timetableId = timetableStreamId(f.schoolId, 2026);
    const readStream = app.store.readStream.bind(app.store);
    let substituted = false;
    // The generation reads the timetable, then the substitution commits, then the generation
    // reads 5Б's lessons (handed over by then) and decides.
    app.store.readStream = (async (id: string, ...rest: unknown[]) => {
      const events = await (readStream as (...a: unknown[]) => ReturnType<typeof readStream>)(
        id,
        ...rest,
      );
      if (id === timetableId && !substituted) {
        substituted = true;
        expect((await substitute(rusB5, "2026-10-06", "2026-10-13")).result).toEqual({
          handedOver: 2,
        });
      }
      return events;
    }) as typeof app.store.readStream;
    try {
      await generateLessons(app.deps, randomUUID(), {
        ...scope,
        from: "2026-10-05",
        to: TO,
        classGroupIds: [b5],
      });
    } finally {
      app.store.readStream = readStream;
    }
    expect(substituted).toBe(true);
    expect((await lessonOn(b5, "2026-10-06", 1)).teacherId).toBe(sub);
    expect((await lessonOn(b5, "2026-10-13", 1)).teacherId).toBe(sub);
    expect(await claims(b5, "2026-10-06", "2026-10-13")).toContainEqual(["2026-10-13", 1, sub]);
  });
});
