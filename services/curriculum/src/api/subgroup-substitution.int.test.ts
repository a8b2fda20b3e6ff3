import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { Grading } from "@otmetka/proto/curriculum/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { timetableStreamId } from "../domain/timetable.js";
import { grpcError } from "../test-support/grpc-client.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import { eventually } from "../test-support/in-process.js";
import { addMaths, defineHalfYearCalendar } from "../test-support/maths-lessons.js";
import { useSchoolApi } from "../test-support/school-api.js";

/*
 * One teacher holds English in both subgroups of 5А (two assignments, Mondays period 1 and
 * period 2). A substitute of the first subgroup's assignment takes that subgroup's lessons
 * only: generation, the handover at AssignSubstitute, a move and ConductLesson used to hand
 * them the other subgroup's as well, and the timetable checks counted them busy there.
 */
const env = useTestEnvironment({ label: "curriculum_subgroup_substitution" });
const a = schoolFixture();
const academicYear = { startYear: 2026 };
const school = { schoolId: a.schoolId, academicYear };
const api = useSchoolApi(env, a);
const { en1: teacher, sub, rus } = a.teachers;
let first = ""; // the teacher's assignment of subgroup 1 (Mondays period 1)

const asPerson = async (pid: string) =>
  api.grpc.client(await api.grpc.issuer.sign({ roles: [`TEACHER@school:${a.schoolId}`], pid }))
    .call;

/** 5А's lessons in [from, to] (read model: waits until `count` are listed). */
async function lessons(fromDate: string, toDate: string, count: number) {
  return eventually(async () => {
    const r = await api.admin.listClassGroupLessons({
      classGroupId: a.classGroups.a5,
      academicYear,
      fromDate,
      toDate,
    });
    expect(r.lessons).toHaveLength(count);
    return r.lessons;
  });
}

const names = new Map<string, string>([
  [teacher, "teacher"],
  [sub, "sub"],
  [rus, "rus"],
]);

/**
 * Waits until 5А's lessons in [from, to] are `expected` ("date period subgroup teacher", the
 * subgroup 1 or 2): the read model follows the relayed events.
 */
const expectLessons = (fromDate: string, toDate: string, expected: string[]) =>
  eventually(async () => {
    const listed = await lessons(fromDate, toDate, expected.length);
    expect(
      listed.map(
        (l) =>
          `${l.date} ${l.period} ${l.subgroupId === a.subgroups.en1 ? 1 : 2} ${names.get(l.teacherId) ?? l.teacherId}`,
      ),
    ).toEqual(expected);
  });

const substitute = (
  assignmentId: string,
  substituteId: string,
  firstDay: string,
  lastDay: string,
) =>
  api.admin.assignSubstitute({
    ...school,
    commandId: randomUUID(),
    assignmentId,
    substituteId,
    firstDay,
    lastDay,
  });

/** ENG in 5Б (whole class) for a teacher, with a Monday period 2 slot over [from, to]. */
async function mondayInB5(teacherId: string, validFrom: string, validTo: string) {
  const target = { ...school, classGroupId: a.classGroups.b5, subgroupId: "", subjectId: "ENG" };
  await api.admin.assignTeacher({ ...target, commandId: randomUUID(), teacherId });
  return api.admin.addTimetableSlot({
    ...target,
    commandId: randomUUID(),
    teacherId,
    weekday: 1,
    period: 2,
    room: "",
    validFrom,
    validTo,
  });
}

beforeAll(async () => {
  const { admin, platform } = api;
  api.app.deps.clock = { now: () => new Date("2026-09-01T03:00:00Z") };
  await platform.addSubject({
    commandId: randomUUID(),
    schoolId: "",
    municipalityId: "",
    code: "ENG",
    name: "Английский язык",
    grading: Grading.GRADING_FIVE_POINT,
  });
  await defineHalfYearCalendar(admin, {
    ...school,
    municipalityId: a.municipalityId,
    daysPerWeek: 5,
  });
  for (const [subgroupId, period] of [
    [a.subgroups.en1, 1],
    [a.subgroups.en2, 2],
  ] as const) {
    const target = { ...school, classGroupId: a.classGroups.a5, subgroupId, subjectId: "ENG" };
    const { assignmentId } = await admin.assignTeacher({
      ...target,
      commandId: randomUUID(),
      teacherId: teacher,
    });
    if (period === 1) first = assignmentId;
    await admin.addTimetableSlot({
      ...target,
      commandId: randomUUID(),
      teacherId: teacher,
      weekday: 1,
      period,
      room: `2${period}`,
      validFrom: "",
      validTo: "",
    });
  }
  await admin.generateLessons({
    ...school,
    commandId: randomUUID(),
    fromDate: "2026-09-01",
    toDate: "2026-09-30",
    classGroupIds: [],
  });
});

describe("a substitution of one subgroup's assignment", () => {
  it("hands over that subgroup's lessons only (AssignSubstitute)", async () => {
    await substitute(first, sub, "2026-09-14", "2026-09-21");
    await expectLessons("2026-09-01", "2026-09-30", [
      "2026-09-07 1 1 teacher",
      "2026-09-07 2 2 teacher",
      "2026-09-14 1 1 sub",
      "2026-09-14 2 2 teacher",
      "2026-09-21 1 1 sub",
      "2026-09-21 2 2 teacher",
      "2026-09-28 1 1 teacher",
      "2026-09-28 2 2 teacher",
    ]);
  });

  it("gives the substitute that subgroup's slots only (GenerateLessons)", async () => {
    await substitute(first, sub, "2026-10-05", "2026-10-12");
    const generated = await api.admin.generateLessons({
      ...school,
      commandId: randomUUID(),
      fromDate: "2026-09-01",
      toDate: "2026-10-31",
      classGroupIds: [],
    });
    // September as handed over: nothing to change there.
    expect(generated).toMatchObject({ scheduled: 8, teacherChanged: 0, skipped: 0 });
    await expectLessons("2026-10-01", "2026-10-31", [
      "2026-10-05 1 1 sub",
      "2026-10-05 2 2 teacher",
      "2026-10-12 1 1 sub",
      "2026-10-12 2 2 teacher",
      "2026-10-19 1 1 teacher",
      "2026-10-19 2 2 teacher",
      "2026-10-26 1 1 teacher",
      "2026-10-26 2 2 teacher",
    ]);
  });

  it("leaves the other subgroup's lesson moved into its dates with its teacher (MoveLesson)", async () => {
    const ls = await lessons("2026-09-28", "2026-09-28", 2);
    const second = ls.find((l) => l.subgroupId === a.subgroups.en2) as (typeof ls)[number];
    await api.admin.moveLesson({
      ...school,
      commandId: randomUUID(),
      classGroupId: a.classGroups.a5,
      lessonId: second.lessonId,
      toDate: "2026-09-14",
      toPeriod: 3,
    });
    await expectLessons("2026-09-14", "2026-09-14", [
      "2026-09-14 1 1 sub",
      "2026-09-14 2 2 teacher",
      "2026-09-14 3 2 teacher",
    ]);
  });

  it("lets the substitute conduct that subgroup's lesson, not the other's (ConductLesson)", async () => {
    api.app.deps.clock = { now: () => new Date("2026-09-14T10:00:00Z") };
    const [own, other] = await lessons("2026-09-14", "2026-09-14", 3);
    const conduct = (lessonId: string) => ({
      ...school,
      commandId: randomUUID(),
      classGroupId: a.classGroups.a5,
      lessonId,
      topic: "Present Simple",
      workProgrammeItemId: "",
      homework: "",
      homeworkDue: "",
      conductedBy: "",
    });
    const refused = await grpcError(
      (await asPerson(sub)).conductLesson(conduct(other?.lessonId as string)),
    );
    expect(refused.code).toBe(status.PERMISSION_DENIED);
    expect(
      await (await asPerson(teacher)).conductLesson(conduct(other?.lessonId as string)),
    ).toEqual({ replayed: false });
    expect(await (await asPerson(sub)).conductLesson(conduct(own?.lessonId as string))).toEqual({
      replayed: false,
    });
    api.app.deps.clock = { now: () => new Date("2026-09-01T03:00:00Z") };
  });

  it("leaves the substitute free in the other subgroup's period (AddTimetableSlot)", async () => {
    // The substitute's own Monday period 2 in 5Б, over their substitution's dates.
    const { slotId } = await mondayInB5(sub, "2026-09-01", "2026-12-31");
    expect(slotId).not.toBe("");
  });

  it("checks the substitute against that subgroup's periods only (AssignSubstitute)", async () => {
    // A teacher busy on Mondays period 2 (the other subgroup's) in January substitutes period 1.
    await mondayInB5(rus, "2027-01-01", "");
    expect(await substitute(first, rus, "2027-01-11", "2027-01-18")).toEqual({ replayed: false });
    await api.admin.generateLessons({
      ...school,
      commandId: randomUUID(),
      fromDate: "2027-01-11",
      toDate: "2027-01-18",
      classGroupIds: [a.classGroups.a5],
    });
    await expectLessons("2027-01-11", "2027-01-18", [
      "2027-01-11 1 1 rus",
      "2027-01-11 2 2 teacher",
      "2027-01-18 1 1 rus",
      "2027-01-18 2 2 teacher",
    ]);
  });

  it("refuses an assignment or a slot of another subject for a subject's subgroup", async () => {
    // The subgroups are English ones; MATH is in the catalogue, the teacher is staff.
    await addMaths(api.platform);
    const timetable = () => api.app.store.streamVersion(timetableStreamId(a.schoolId, 2026));
    const before = await timetable();
    const maths = { ...school, classGroupId: a.classGroups.a5, subjectId: "MATH" };
    const err = await grpcError(
      api.admin.assignTeacher({
        ...maths,
        commandId: randomUUID(),
        teacherId: a.teachers.math,
        subgroupId: a.subgroups.en1,
      }),
    );
    expect([err.code, err.details]).toEqual([
      status.FAILED_PRECONDITION,
      `subgroup_id: subgroup ${a.subgroups.en1} is one for ENG, not MATH`,
    ]);
    // A whole-class maths assignment covers the class's subgroups, but not an English one.
    await api.admin.assignTeacher({
      ...maths,
      commandId: randomUUID(),
      teacherId: a.teachers.math,
      subgroupId: "",
    });
    const slot = await grpcError(
      api.admin.addTimetableSlot({
        ...maths,
        commandId: randomUUID(),
        teacherId: a.teachers.math,
        subgroupId: a.subgroups.en2,
        weekday: 3,
        period: 1,
        room: "",
        validFrom: "",
        validTo: "",
      }),
    );
    expect([slot.code, slot.details]).toEqual([
      status.FAILED_PRECONDITION,
      `subgroup_id: subgroup ${a.subgroups.en2} is one for ENG, not MATH`,
    ]);
    expect(await timetable()).toBe(before + 1);
  });
});
