import { randomUUID } from "node:crypto";
import { rebuildProjection } from "@otmetka/projections";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lesson, lessonsStreamId } from "../domain/lessons.js";
import { lessonsProjection } from "../projections/lessons.js";
import type { LessonRow } from "../projections/lessons-queries.js";
import { publishIdentityEvents, schoolFixture } from "../test-support/identity-feed.js";
import { eventually, type InProcess, startInProcess } from "../test-support/in-process.js";
import { refusal } from "../test-support/refusal.js";
import {
  addFivePointSubjects,
  calendarCommands,
  defineSchoolYear,
} from "../test-support/school-year.js";
import {
  cancelLesson,
  classGroupLessons,
  conductLesson,
  generateLessons,
  moveLesson,
  teacherDay,
} from "./lessons.js";
import {
  addTimetableSlot,
  assignSubstitute,
  assignTeacher,
  endTimetableSlot,
} from "./timetable.js";
import {
  approveWorkProgramme,
  draftWorkProgramme,
  getWorkProgramme,
  workProgrammeDelivery,
} from "./work-programmes.js";

const env = useTestEnvironment({ label: "curriculum_lessons" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const a5 = { ...scope, classGroupId: f.classGroups.a5 };
let mathSlot = "";
const firstGeneration = randomUUID();
let en1Assignment: { result: { assignmentId: string } };

const generate = (commandId = randomUUID()) =>
  generateLessons(app.deps, commandId, { ...scope, from: "", to: "", classGroupIds: [] });
const all = () => classGroupLessons(app.deps, f.classGroups.a5, 2026, "2026-09-01", "2027-05-31");

beforeAll(async () => {
  app = await startInProcess(env);
  await publishIdentityEvents(app.nc, app.names, f.events);
  await eventually(async () =>
    expect(await app.deps.facts.subgroup(f.subgroups.en2)).toBeDefined(),
  );
  await defineSchoolYear(app.deps, f, {
    termKind: "TERM_KIND_QUARTER",
    terms: [
      { number: 1, firstDay: "2026-09-01", lastDay: "2026-10-31" },
      { number: 2, firstDay: "2026-11-01", lastDay: "2026-12-31" },
      { number: 3, firstDay: "2027-01-01", lastDay: "2027-03-31" },
      { number: 4, firstDay: "2027-04-01", lastDay: "2027-05-31" },
    ],
  });
  const cal = calendarCommands(app.deps);
  await cal({
    kind: "DeclareNonSchoolDays",
    ...scope,
    firstDay: "2026-10-26",
    lastDay: "2026-11-04",
    dayKind: "NON_SCHOOL_DAY_KIND_HOLIDAY",
    name: "Осенние каникулы",
  });
  await cal({
    kind: "DeclareNonSchoolDays",
    ...scope,
    firstDay: "2027-02-23",
    lastDay: "2027-02-23",
    dayKind: "NON_SCHOOL_DAY_KIND_DAY_OFF",
    name: "День защитника Отечества",
  });
  await addFivePointSubjects(app.deps, [
    ["MATH", "Математика"],
    ["ENG", "Английский язык"],
  ]);
  await assignTeacher(app.deps, randomUUID(), {
    ...a5,
    teacherId: f.teachers.math,
    subjectId: "MATH",
    subgroupId: "",
  });
  en1Assignment = await assignTeacher(app.deps, randomUUID(), {
    ...a5,
    teacherId: f.teachers.en1,
    subjectId: "ENG",
    subgroupId: f.subgroups.en1,
  });
  await assignTeacher(app.deps, randomUUID(), {
    ...a5,
    teacherId: f.teachers.en2,
    subjectId: "ENG",
    subgroupId: f.subgroups.en2,
  });
  const slot = (
    weekday: number,
    period: number,
    teacherId: string,
    subjectId: string,
    subgroupId = "",
  ) =>
    addTimetableSlot(app.deps, randomUUID(), {
      ...a5,
      weekday,
      period,
      teacherId,
      subjectId,
      subgroupId,
      room: "",
      validFrom: "",
      validTo: "",
    });
  mathSlot = (await slot(2, 1, f.teachers.math, "MATH")).result.slotId;
  await slot(4, 3, f.teachers.en1, "ENG", f.subgroups.en1);
  await slot(4, 3, f.teachers.en2, "ENG", f.subgroups.en2);
});
afterAll(async () => {
  await app?.close();
});

describe("lessons", () => {
  it("are generated over the term's school days, skipping holidays, with term numbers", async () => {
    const { result } = await generate(firstGeneration);
    const lessons = await all();
    expect(result).toEqual({
      classGroups: 1,
      scheduled: lessons.length,
      unscheduled: 0,
      teacherChanged: 0,
      skipped: 0,
    });
    const tuesdays = lessons.filter((l) => l.subjectId === "MATH");
    const thursdays = lessons.filter((l) => l.subjectId === "ENG");
    // Counted independently: 38 Thursdays and 36 Tuesdays between 1 Sep and 31 May are school days.
    expect(thursdays.length).toBe(2 * 38); // two subgroups in parallel
    expect(tuesdays.length).toBe(36);
    for (const off of ["2026-10-27", "2026-10-29", "2027-02-23"])
      expect(lessons.some((l) => l.date === off)).toBe(false);
    expect(tuesdays[0]).toMatchObject({
      date: "2026-09-01",
      period: 1,
      term: 1,
      teacherId: f.teachers.math,
      status: "scheduled",
    });
    expect(tuesdays.find((l) => l.date === "2026-11-10")?.term).toBe(2);
    // 3 September 2026 is a Thursday: the second English subgroup's teacher has period 3.
    const day = await teacherDay(app.deps, {
      ...scope,
      teacherId: f.teachers.en2,
      date: "2026-09-03",
    });
    expect(day.map((l) => [l.subjectId, l.period, l.subgroupId])).toEqual([
      ["ENG", 3, f.subgroups.en2],
    ]);
    expect(
      await teacherDay(app.deps, { ...scope, teacherId: f.teachers.en2, date: "2026-09-01" }),
    ).toEqual([]);
  });

  it("regeneration is idempotent: no new events, and a repeated command id replays", async () => {
    const version = await app.store.streamVersion(lessonsStreamId(f.classGroups.a5, 2026));
    expect((await generate()).result).toEqual({
      classGroups: 1,
      scheduled: 0,
      unscheduled: 0,
      teacherChanged: 0,
      skipped: 0,
    });
    // The first generation's command id again: its stored result, nothing appended.
    const retry = await generate(firstGeneration);
    expect(retry.replayed).toBe(true);
    expect(retry.result.scheduled).toBe((await all()).length);
    expect(await app.store.streamVersion(lessonsStreamId(f.classGroups.a5, 2026))).toBe(version);
  });

  it("a substitution added after generation hands the scheduled lessons over at once", async () => {
    const { result } = await assignSubstitute(app.deps, randomUUID(), {
      ...scope,
      assignmentId: en1Assignment.result.assignmentId,
      substituteId: f.teachers.sub,
      firstDay: "2026-09-07",
      lastDay: "2026-09-18",
    });
    // Thursdays 10 and 17 September: the first subgroup's English goes to the substitute.
    expect(result).toEqual({ handedOver: 2 });
    const day = await teacherDay(app.deps, {
      ...scope,
      teacherId: f.teachers.sub,
      date: "2026-09-17",
    });
    expect(day.map((l) => [l.subjectId, l.subgroupId])).toEqual([["ENG", f.subgroups.en1]]);
    expect(
      await teacherDay(app.deps, { ...scope, teacherId: f.teachers.en1, date: "2026-09-17" }),
    ).toEqual([]);
    expect((await generate()).result.teacherChanged).toBe(0);
  });

  it("conducts, cancels and moves; regenerating after a timetable change keeps them", async () => {
    app.deps.clock = { now: () => new Date("2026-09-08T04:00:00Z") }; // 09:00 in Yekaterinburg
    const lessons = await all();
    const first = lessons.find((l) => l.date === "2026-09-01") as (typeof lessons)[number];
    const second = lessons.find(
      (l) => l.date === "2026-09-08" && l.subjectId === "MATH",
    ) as (typeof lessons)[number];
    const third = lessons.find(
      (l) => l.date === "2026-09-15" && l.subjectId === "MATH",
    ) as (typeof lessons)[number];
    const future = await refusal(
      conductLesson(app.deps, randomUUID(), {
        ...a5,
        lessonId: third.lessonId,
        topic: "Дроби",
        workProgrammeItemId: "",
        homework: "",
        homeworkDue: "",
        conductedBy: "",
      }),
    );
    expect(future.message).toBe(
      `lesson_id: lesson ${third.lessonId} is on 2026-09-15, after today 2026-09-08`,
    );
    await conductLesson(app.deps, randomUUID(), {
      ...a5,
      lessonId: first.lessonId,
      topic: "Натуральные числа",
      workProgrammeItemId: "",
      homework: "№ 5",
      homeworkDue: "2026-09-03",
      conductedBy: f.teachers.sub,
    });
    await cancelLesson(app.deps, randomUUID(), {
      ...a5,
      lessonId: second.lessonId,
      reason: "Карантин",
    });
    const busy = await refusal(
      moveLesson(app.deps, randomUUID(), {
        ...a5,
        lessonId: third.lessonId,
        toDate: "2026-09-17",
        toPeriod: 3,
      }),
    );
    expect(busy.field).toBe("to_period");
    await moveLesson(app.deps, randomUUID(), {
      ...a5,
      lessonId: third.lessonId,
      toDate: "2026-09-16",
      toPeriod: 5,
    });

    // Mathematics stops on Tuesdays from 1 September: every lesson of the slot goes except those worked on.
    await endTimetableSlot(app.deps, randomUUID(), {
      ...scope,
      slotId: mathSlot,
      lastDay: "2026-08-31",
    }).catch(async (e) => {
      throw e;
    });
    const { result } = await generate();
    expect(result).toEqual({
      classGroups: 1,
      scheduled: 0,
      unscheduled: 36 - 3,
      teacherChanged: 0,
      skipped: 0,
    });
    const math = (await all()).filter((l) => l.subjectId === "MATH");
    expect(math.map((l) => [l.date, l.period, l.status, l.conductedBy ?? ""])).toEqual([
      ["2026-09-01", 1, "conducted", f.teachers.sub],
      ["2026-09-08", 1, "cancelled", ""],
      ["2026-09-16", 5, "scheduled", ""],
    ]);
    expect((await generate()).result.unscheduled).toBe(0);
  });

  it("refuses moving a lesson into a day before today in the school's zone; today is fine", async () => {
    const moved = (await all()).find((l) => l.date === "2026-09-16" && l.period === 5);
    if (!moved) throw new Error("no lesson on 2026-09-16 period 5");
    const moveTo = (toDate: string) =>
      moveLesson(app.deps, randomUUID(), { ...a5, lessonId: moved.lessonId, toDate, toPeriod: 6 });
    // 19:30 UTC on 15 September is 00:30 on 16 September in Yekaterinburg.
    app.deps.clock = { now: () => new Date("2026-09-15T19:30:00Z") };
    const past = await refusal(moveTo("2026-09-15"));
    expect([past.kind, past.message]).toEqual([
      "failed_precondition",
      "to_date: 2026-09-15 is before today 2026-09-16; a lesson moves to today or later",
    ]);
    await moveTo("2026-09-16");
    expect((await all()).find((l) => l.lessonId === moved.lessonId)).toMatchObject({
      date: "2026-09-16",
      period: 6,
    });
  });

  it("work programmes: a revision is a new version, the old one stays readable; delivery counts conducted items", async () => {
    const ref = { ...scope, subjectId: "MATH", gradeLevel: 5 };
    const items = [
      { topic: "Натуральные числа", hours: 2 },
      { topic: "Дроби", hours: 3 },
    ];
    expect(
      (
        await draftWorkProgramme(app.deps, randomUUID(), {
          ...ref,
          items,
          authorId: f.teachers.math,
        })
      ).result,
    ).toEqual({ version: 1 });
    const own = await refusal(
      approveWorkProgramme(app.deps, randomUUID(), {
        ...ref,
        version: 1,
        approvedBy: f.teachers.math,
      }),
    );
    expect(own.message).toBe("approved_by: the author cannot approve their own programme");
    await approveWorkProgramme(app.deps, randomUUID(), {
      ...ref,
      version: 1,
      approvedBy: f.teachers.rus,
    });

    const d = () =>
      workProgrammeDelivery(app.deps, {
        ...scope,
        subjectId: "MATH",
        classGroupId: f.classGroups.a5,
        asOf: "2026-09-30",
      });
    // Left of mathematics (see above): 1 Sep conducted without an item, 8 Sep cancelled, the moved 16 Sep lesson.
    expect(await d()).toMatchObject({
      version: 1,
      plannedToDate: 2,
      conductedWithItem: 0,
      totalHours: 5,
    });
    app.deps.clock = { now: () => new Date("2026-09-20T04:00:00Z") };
    const moved = (await all()).find((l) => l.date === "2026-09-16") as { lessonId: string };
    const conductMoved = (workProgrammeItemId: string) =>
      conductLesson(app.deps, randomUUID(), {
        ...a5,
        lessonId: moved.lessonId,
        topic: "Натуральные числа",
        workProgrammeItemId,
        homework: "",
        homeworkDue: "",
        conductedBy: "",
      });
    // The item must be one of the approved programme of MATH for grade 5.
    const unknown = await refusal(conductMoved("v1.9"));
    expect([unknown.kind, unknown.field]).toEqual(["not_found", "work_programme_item_id"]);
    await conductMoved("v1.1");
    const after = await d();
    expect([after.conductedWithItem, after.items.map((i) => i.conducted)]).toEqual([1, [1, 0]]);

    await draftWorkProgramme(app.deps, randomUUID(), {
      ...ref,
      items: [...items, { topic: "Проценты", hours: 1 }],
      authorId: f.teachers.math,
    });
    expect((await getWorkProgramme(app.deps, ref, 0)).version.version).toBe(1);
    await approveWorkProgramme(app.deps, randomUUID(), {
      ...ref,
      version: 2,
      approvedBy: f.teachers.rus,
    });
    const current = await getWorkProgramme(app.deps, ref, 0);
    expect([current.version.version, current.versions, current.version.items.length]).toEqual([
      2, 2, 3,
    ]);
    const old = await getWorkProgramme(app.deps, ref, 1);
    expect([old.version.approvedBy, old.version.items.map((i) => i.topic)]).toEqual([
      f.teachers.rus,
      ["Натуральные числа", "Дроби"],
    ]);
  });

  it("moving a lesson checks its room against the other class groups' lessons that day", async () => {
    await assignTeacher(app.deps, randomUUID(), {
      ...scope,
      classGroupId: f.classGroups.b5,
      teacherId: f.teachers.rus,
      subjectId: "MATH",
      subgroupId: "",
    });
    const roomSlot = (classGroupId: string, weekday: number, teacherId: string) =>
      addTimetableSlot(app.deps, randomUUID(), {
        ...scope,
        classGroupId,
        weekday,
        period: 2,
        teacherId,
        subjectId: "MATH",
        subgroupId: "",
        room: "12",
        validFrom: "2026-09-21",
        validTo: "2026-09-30",
      });
    await roomSlot(f.classGroups.b5, 3, f.teachers.rus); // Wednesdays in room 12
    await roomSlot(f.classGroups.a5, 5, f.teachers.math); // Fridays in room 12
    await generateLessons(app.deps, randomUUID(), {
      ...scope,
      from: "2026-09-21",
      to: "2026-09-30",
      classGroupIds: [],
    });
    const friday = (await all()).find((l) => l.date === "2026-09-25" && l.room === "12");
    if (!friday) throw new Error("no Friday lesson in room 12");
    const move = (toPeriod: number) =>
      moveLesson(app.deps, randomUUID(), {
        ...a5,
        lessonId: friday.lessonId,
        toDate: "2026-09-23",
        toPeriod,
      });
    const taken = await refusal(move(2));
    expect([taken.field, taken.message]).toEqual([
      "to_period",
      expect.stringMatching(
        new RegExp(
          `^to_period: room 12 is taken by lesson .+ \\(class group ${f.classGroups.b5}\\) on 2026-09-23 period 2$`,
        ),
      ),
    ]);
    await move(6);
    expect((await all()).find((l) => l.lessonId === friday.lessonId)).toMatchObject({
      date: "2026-09-23",
      period: 6,
      room: "12",
    });
  });

  it("the lessons read model answers as the streams do, and is rebuilt to the same content", async () => {
    const pick = (l: Lesson | LessonRow) => ({
      lessonId: l.lessonId,
      classGroupId: l.classGroupId,
      date: l.date,
      period: l.period,
      term: l.term,
      subgroupId: l.subgroupId,
      subjectId: l.subjectId,
      teacherId: l.teacherId,
      room: l.room,
      status: l.status,
      moved: l.moved,
      topic: l.topic ?? "",
      homework: l.homework ?? "",
      homeworkDue: l.homeworkDue ?? "",
      conductedBy: l.conductedBy ?? "",
    });
    const queries: [string, string][] = [
      [f.teachers.sub, "2026-09-17"],
      [f.teachers.math, "2026-09-23"],
      [f.teachers.rus, "2026-09-23"],
      [f.teachers.en2, "2026-09-03"],
    ];
    const answers = async (from: "model" | "streams") => {
      const lessons =
        from === "model"
          ? await app.deps.lessons.classGroupLessons(
              f.classGroups.a5,
              2026,
              "2026-09-01",
              "2027-05-31",
            )
          : await all();
      const days = [];
      for (const [teacherId, date] of queries) {
        const input = { ...scope, teacherId, date };
        days.push(
          (from === "model"
            ? await app.deps.lessons.teacherDay(input)
            : await teacherDay(app.deps, input)
          ).map(pick),
        );
      }
      return { lessons: lessons.map(pick), days };
    };
    const expected = await answers("streams");
    expect(expected.lessons.length).toBeGreaterThan(50);
    expect(expected.days.map((d) => d.length)).toEqual([1, 1, 1, 1]);
    await eventually(async () => expect(await answers("model")).toEqual(expected));
    // The substitute taught 1 September outside their substitution: the streams' teacher's
    // day (class groups the timetable links them to on the date) misses it, the model has it.
    const outside = { ...scope, teacherId: f.teachers.sub, date: "2026-09-01" };
    expect(await teacherDay(app.deps, outside)).toEqual([]);
    expect((await app.deps.lessons.teacherDay(outside)).map((l) => l.conductedBy)).toEqual([
      f.teachers.sub,
    ]);

    const dump = async () =>
      (await app.store.pool.query("SELECT * FROM proj_lessons.lessons ORDER BY lesson_id")).rows;
    const before = await dump();
    await app.store.pool.query("TRUNCATE proj_lessons.lessons");
    const rebuilt = await rebuildProjection({
      projection: lessonsProjection,
      pool: app.store.pool,
      nc: app.nc,
      names: app.names,
    });
    expect(rebuilt.events).toBeGreaterThan(before.length);
    expect(await dump()).toEqual(before);
  });
});
