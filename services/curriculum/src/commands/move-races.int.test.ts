import { randomUUID } from "node:crypto";
import { addDays, type CivilDate, DomainError } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lessonsStreamId } from "../domain/lessons.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import type { InProcess } from "../test-support/in-process.js";
import { startWithMathsYear } from "../test-support/school-year.js";
import { classGroupLessons, generateLessons, moveLesson } from "./lessons.js";
import { addTimetableSlot, assignTeacher } from "./timetable.js";

/*
 * Two moves in different class groups are appended to different streams, so the streams'
 * expected versions alone do not order them: each must see the other's move or fail.
 */
const env = useTestEnvironment({ label: "curriculum_move_races" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const { a5, b5 } = f.classGroups;
/** Rounds of each race: two moves started together, in a new week each time. */
const ROUNDS = 5;
const FIRST_MONDAY = "2026-09-07";

beforeAll(async () => {
  app = await startWithMathsYear(env, f);
  // The maths teacher in both class groups (Monday 5А, Tuesday 5Б, no room); room 7 shared
  // by two other teachers (Wednesday 5А, Thursday 5Б).
  const slots = [
    [a5, 1, f.teachers.math, ""],
    [b5, 2, f.teachers.math, ""],
    [a5, 3, f.teachers.rus, "7"],
    [b5, 4, f.teachers.en1, "7"],
  ] as const;
  for (const [classGroupId, weekday, teacherId, room] of slots) {
    const target = { ...scope, classGroupId, teacherId, subjectId: "MATH", subgroupId: "" };
    await assignTeacher(app.deps, randomUUID(), target);
    await addTimetableSlot(app.deps, randomUUID(), {
      ...target,
      weekday,
      period: 1,
      room,
      validFrom: "",
      validTo: "",
    });
  }
  await generateLessons(app.deps, randomUUID(), {
    ...scope,
    from: FIRST_MONDAY,
    to: addDays(FIRST_MONDAY, 7 * 2 * ROUNDS),
    classGroupIds: [],
  });
});
afterAll(async () => {
  await app?.close();
});

/** The lesson of a class group on a date (one a day here). */
async function lessonOn(classGroupId: string, date: CivilDate) {
  const [lesson] = await classGroupLessons(app.deps, classGroupId, 2026, date, date);
  if (!lesson) throw new Error(`no lesson of ${classGroupId} on ${date}`);
  return lesson;
}

/** Moves a lesson of each class group (on their dates) to one date and period, together. */
async function moveTogether(
  moves: { classGroupId: string; from: CivilDate; toPeriod: number }[],
  toDate: CivilDate,
) {
  const lessons = await Promise.all(moves.map((m) => lessonOn(m.classGroupId, m.from)));
  const outcomes = await Promise.allSettled(
    moves.map((m, i) =>
      moveLesson(app.deps, randomUUID(), {
        ...scope,
        classGroupId: m.classGroupId,
        lessonId: lessons[i]!.lessonId,
        toDate,
        toPeriod: m.toPeriod,
      }),
    ),
  );
  return { lessons, outcomes };
}

/** LessonMoved events of 5А and 5Б to a date and period. */
async function movesTo(toDate: CivilDate, toPeriod: number) {
  const events = [
    ...(await app.store.readStream(lessonsStreamId(a5, 2026))),
    ...(await app.store.readStream(lessonsStreamId(b5, 2026))),
  ];
  return events.filter((e) => {
    const d = e.data as { toDate?: string; toPeriod?: number };
    return e.type.endsWith(".LessonMoved") && d.toDate === toDate && d.toPeriod === toPeriod;
  });
}

/** Exactly one of two moves won; the other was refused as a sequential move would be. */
function oneWon(
  r: Awaited<ReturnType<typeof moveTogether>>,
  refusal: (winner: { lessonId: string; classGroupId: string }) => string,
) {
  const won = r.outcomes.findIndex((o) => o.status === "fulfilled");
  const lost = r.outcomes.findIndex((o) => o.status === "rejected");
  expect(r.outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
  const err = (r.outcomes[lost] as PromiseRejectedResult).reason;
  expect(err).toBeInstanceOf(DomainError);
  expect([err.kind, err.field, err.message]).toEqual([
    "failed_precondition",
    "to_period",
    refusal(r.lessons[won]!),
  ]);
}

/** 5А's lesson on `from` and 5Б's on the next day, moved together to one date and period. */
const raceInto = (from: CivilDate, toDate: CivilDate, toPeriod: number) =>
  moveTogether(
    [
      { classGroupId: a5, from, toPeriod },
      { classGroupId: b5, from: addDays(from, 1), toPeriod },
    ],
    toDate,
  );

describe("concurrent moves in different class groups", () => {
  it("of one teacher into one period: one wins, the other is refused naming the teacher", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const monday = addDays(FIRST_MONDAY, 7 * round);
      const friday = addDays(monday, 4);
      const r = await raceInto(monday, friday, 2);
      oneWon(
        r,
        (w) =>
          `to_period: teacher ${f.teachers.math} already teaches lesson ${w.lessonId} (class group ${w.classGroupId}) on ${friday} period 2`,
      );
      expect(await movesTo(friday, 2)).toHaveLength(1);
    }
  });

  it("into one room and period: one wins, the other is refused naming the room", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const wednesday = addDays(FIRST_MONDAY, 7 * round + 2);
      const friday = addDays(wednesday, 2);
      const r = await raceInto(wednesday, friday, 3);
      oneWon(
        r,
        (w) =>
          `to_period: room 7 is taken by lesson ${w.lessonId} (class group ${w.classGroupId}) on ${friday} period 3`,
      );
      expect(await movesTo(friday, 3)).toHaveLength(1);
    }
  });

  it("of one teacher into different periods: both succeed", async () => {
    // Weeks the races above left alone.
    for (let round = ROUNDS; round < 2 * ROUNDS; round++) {
      const monday = addDays(FIRST_MONDAY, 7 * round);
      const thursday = addDays(monday, 3);
      const r = await moveTogether(
        [
          { classGroupId: a5, from: monday, toPeriod: 4 },
          { classGroupId: b5, from: addDays(monday, 1), toPeriod: 5 },
        ],
        thursday,
      );
      expect(r.outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
      expect(await movesTo(thursday, 4)).toHaveLength(1);
      expect(await movesTo(thursday, 5)).toHaveLength(1);
    }
  });
});
