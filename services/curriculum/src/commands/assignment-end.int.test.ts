import { randomUUID } from "node:crypto";
import type { CivilDate } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timetableStreamId } from "../domain/timetable.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import type { InProcess } from "../test-support/in-process.js";
import { refusal } from "../test-support/refusal.js";
import { startWithMathsYear } from "../test-support/school-year.js";
import { timetableHelpers } from "../test-support/timetable-helpers.js";
import { conductLesson, generateLessons } from "./lessons.js";
import {
  addTimetableSlot,
  assignSubstitute,
  assignTeacher,
  endTeacherAssignment,
  endTimetableSlot,
  loadTimetable,
} from "./timetable.js";

/*
 * EndTeacherAssignment: the teacher keeps the assignment up to its last day. Refused (nothing
 * written) while the timetable or the lessons still give them the class after that day.
 */
const env = useTestEnvironment({ label: "curriculum_assignment_end" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const { a5, b5 } = f.classGroups;
const { math, rus, sub } = f.teachers;
const FROM = "2026-09-07"; // a Monday
const TO = "2026-10-16";
let mathA5 = ""; // 5А maths: Mondays period 1
let rusB5 = ""; // 5Б maths taught by `rus`: Tuesdays period 1

const { slot, lessonsOf, lessonOn, move, versions } = timetableHelpers(() => app, scope, {
  from: FROM,
  to: TO,
});

const end = (assignmentId: string, lastDay: string, commandId = randomUUID()) =>
  endTeacherAssignment(app.deps, commandId, { ...scope, assignmentId, lastDay });

const regenerate = () =>
  generateLessons(app.deps, randomUUID(), { ...scope, from: FROM, to: TO, classGroupIds: [] });

/** The slot ids of a teacher. */
const slotsOf = async (teacherId: string) =>
  [...(await loadTimetable(app.deps, f.schoolId, 2026)).slots.values()]
    .filter((s) => s.teacherId === teacherId)
    .map((s) => s.slotId);

const mathSlot = (teacherId: string, validFrom: CivilDate) =>
  addTimetableSlot(app.deps, randomUUID(), {
    ...scope,
    weekday: 4,
    period: 3,
    classGroupId: a5,
    subgroupId: "",
    subjectId: "MATH",
    teacherId,
    room: "",
    validFrom,
    validTo: "",
  });

beforeAll(async () => {
  app = await startWithMathsYear(env, f);
  mathA5 = await slot(a5, 1, 1, math);
  rusB5 = await slot(b5, 2, 1, rus);
  await regenerate();
  app.deps.clock = { now: () => new Date("2026-09-16T04:00:00Z") }; // Wednesday 16 September
});
afterAll(async () => {
  await app?.close();
});

describe("EndTeacherAssignment", () => {
  it("refuses an unknown assignment, a bad or out-of-year last day, running slots and the teacher's lessons after it; each writes nothing", async () => {
    const before = await versions(a5, b5);
    const unknown = await refusal(end(randomUUID(), "2026-09-30"));
    expect([unknown.kind, unknown.field]).toEqual(["not_found", "assignment_id"]);
    for (const lastDay of ["", "2026-13-01", "2026-08-31", "2027-09-01"]) {
      const bad = await refusal(end(mathA5, lastDay));
      expect([bad.kind, bad.field], lastDay).toEqual(["invalid_argument", "last_day"]);
    }
    // The Monday slot runs all year.
    const [slotId = ""] = await slotsOf(math);
    const running = await refusal(end(mathA5, "2026-09-30"));
    expect([running.kind, running.field]).toEqual(["failed_precondition", "last_day"]);
    expect(running.message).toMatch(
      new RegExp(
        `^last_day: 1 timetable slot\\(s\\) of the assignment run past 2026-09-30: slot ${slotId} \\(weekday 1 period 1, 2026-09-01 - 2027-05-31\\); end them first`,
      ),
    );
    expect(await versions(a5, b5)).toEqual(before);

    // The slot ends; its lessons of 5 and 12 October are still scheduled to the teacher.
    await endTimetableSlot(app.deps, randomUUID(), { ...scope, slotId, lastDay: "2026-09-30" });
    const afterSlot = await versions(a5, b5);
    const lessons = await refusal(end(mathA5, "2026-09-30"));
    expect([lessons.kind, lessons.field]).toEqual(["failed_precondition", "last_day"]);
    const oct5 = await lessonOn(a5, "2026-10-05", 1);
    const oct12 = await lessonOn(a5, "2026-10-12", 1);
    expect(lessons.message).toBe(
      `last_day: 2 lesson(s) of teacher ${math} in this subject and class group are after 2026-09-30: lesson ${oct5.lessonId} (2026-10-05 period 1, scheduled), lesson ${oct12.lessonId} (2026-10-12 period 1, scheduled); regenerate the lessons once the slots end (GenerateLessons), or move or cancel them`,
    );
    expect(await versions(a5, b5)).toEqual(afterSlot);
  });

  it("ends the assignment once the slots and lessons end by the last day; a replay writes nothing, a second end is refused; the teacher may be assigned again", async () => {
    // The slot ended on 30 September (above); a regeneration unschedules October's lessons.
    await regenerate();
    expect((await lessonsOf(a5, "2026-10-01", TO)).filter((l) => l.status === "scheduled")).toEqual(
      [],
    );
    const commandId = randomUUID();
    expect(await end(mathA5, "2026-09-30", commandId)).toEqual({ result: {}, replayed: false });
    const timetableId = timetableStreamId(f.schoolId, 2026);
    const written = await app.store.readStream(timetableId);
    expect(written.at(-1)?.type).toBe("curriculum.v1.TeacherAssignmentEnded");
    expect(written.at(-1)?.data).toEqual({
      schoolId: f.schoolId,
      municipalityId: f.municipalityId,
      academicYear: { startYear: 2026 },
      assignmentId: mathA5,
      teacherId: math,
      subjectId: "MATH",
      classGroupId: a5,
      subgroupId: "",
      lastDay: "2026-09-30",
    });
    expect((await loadTimetable(app.deps, f.schoolId, 2026)).assignments.get(mathA5)).toMatchObject(
      { lastDay: "2026-09-30" },
    );

    const version = await app.store.streamVersion(timetableId);
    expect(await end(mathA5, "2026-09-30", commandId)).toEqual({ result: {}, replayed: true });
    const again = await refusal(end(mathA5, "2026-10-15"));
    expect([again.kind, again.field]).toEqual(["failed_precondition", "assignment_id"]);
    expect(again.message).toMatch(/already ended on 2026-09-30/);
    // Nothing of the teacher after the last day: no slot, no substitution past it.
    const slotAfter = await refusal(mathSlot(math, "2026-10-01"));
    expect([slotAfter.kind, slotAfter.field]).toEqual(["failed_precondition", "teacher_id"]);
    const substitution = await refusal(
      assignSubstitute(app.deps, randomUUID(), {
        ...scope,
        assignmentId: mathA5,
        substituteId: sub,
        firstDay: "2026-09-28",
        lastDay: "2026-10-02",
      }),
    );
    expect([substitution.kind, substitution.field]).toEqual(["failed_precondition", "last_day"]);
    expect(await app.store.streamVersion(timetableId)).toBe(version);

    // A new assignment of the same teacher: allowed, and it lets them have a slot again.
    const { result } = await assignTeacher(app.deps, randomUUID(), {
      ...scope,
      teacherId: math,
      subjectId: "MATH",
      classGroupId: a5,
      subgroupId: "",
    });
    expect(result.assignmentId).not.toBe(mathA5);
    await mathSlot(math, "2026-11-02");
    const state = await loadTimetable(app.deps, f.schoolId, 2026);
    expect(state.assignments.get(result.assignmentId)?.lastDay).toBeUndefined();
  });

  it("refuses a last day before a lesson the teacher conducted; the day of that lesson is accepted", async () => {
    const conducted = await lessonOn(b5, "2026-09-15", 1);
    await conductLesson(app.deps, randomUUID(), {
      ...scope,
      classGroupId: b5,
      lessonId: conducted.lessonId,
      topic: "Дроби",
      workProgrammeItemId: "",
      homework: "",
      homeworkDue: "",
      conductedBy: "",
    });
    const [slotId = ""] = await slotsOf(rus);
    await endTimetableSlot(app.deps, randomUUID(), { ...scope, slotId, lastDay: "2026-09-14" });
    await regenerate();
    const before = await versions(a5, b5);
    const refused = await refusal(end(rusB5, "2026-09-14"));
    expect([refused.kind, refused.field]).toEqual(["failed_precondition", "last_day"]);
    expect(refused.message).toMatch(
      `1 lesson(s) of teacher ${rus} in this subject and class group are after 2026-09-14: lesson ${conducted.lessonId} (2026-09-15 period 1, conducted)`,
    );
    expect(await versions(a5, b5)).toEqual(before);
    expect((await end(rusB5, "2026-09-15")).replayed).toBe(false);
  });

  it("refuses a move that puts the teacher's lesson after their assignment's last day", async () => {
    // rus's 5Б assignment ended on 15 September (above); their 8 September lesson is still due.
    const due = await lessonOn(b5, "2026-09-08", 1);
    const before = await versions(a5, b5);
    const refused = await refusal(move(b5, due, "2026-09-22", 2));
    expect([refused.kind, refused.field, refused.message]).toEqual([
      "failed_precondition",
      "to_date",
      `to_date: teacher ${rus}'s assignment to MATH in this class group ended on 2026-09-15; their lesson moves to that day or earlier`,
    ]);
    expect(await versions(a5, b5)).toEqual(before);
    // Up to the last day it moves.
    app.deps.clock = { now: () => new Date("2026-09-10T04:00:00Z") };
    try {
      expect((await move(b5, due, "2026-09-14", 2)).replayed).toBe(false);
    } finally {
      app.deps.clock = { now: () => new Date("2026-09-16T04:00:00Z") };
    }
  });
});
