import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { Grading, NonSchoolDayKind } from "@otmetka/proto/curriculum/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { calendarStreamId } from "../domain/calendar.js";
import { lessonsStreamId } from "../domain/lessons.js";
import { timetableStreamId } from "../domain/timetable.js";
import { grpcError } from "../test-support/grpc-client.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import { scheduleMathsLessons } from "../test-support/maths-lessons.js";
import { type SchoolApi, useSchoolApi } from "../test-support/school-api.js";

/*
 * Bad text over the real gRPC API: too long, blank where required, or holding NUL and other
 * control characters. Each is INVALID_ARGUMENT naming the field, with a short message (a
 * message echoing a 20,000-character value overflowed the trailer: the client saw
 * UNAVAILABLE), and nothing is written.
 */
const env = useTestEnvironment({ label: "curriculum_input" });
const a = schoolFixture();
const api = useSchoolApi(env, a);
let admin: SchoolApi["admin"];
const academicYear = { startYear: 2026 };
const school = { schoolId: a.schoolId, academicYear };
let lessonId = "";
let assignmentId = "";
const HUGE = "Я".repeat(20_001);
const NUL = "Тема\u0000урока";

beforeAll(async () => {
  admin = api.admin;
  const set = await scheduleMathsLessons({
    platform: api.platform,
    admin,
    a,
    toDate: "2026-09-01",
    lessons: 1,
  });
  lessonId = set.lessonIds[0] ?? "";
  assignmentId = set.assignmentId;
});

/** INVALID_ARGUMENT naming `field`, in a message that names the rule and stays short. */
async function expectInvalid(call: Promise<unknown>, field: string) {
  const err = await grpcError(call);
  expect({ code: err.code, details: err.details.slice(0, 200) }).toMatchObject({
    code: status.INVALID_ARGUMENT,
    details: expect.stringMatching(new RegExp(`^${field.replace(/[[\].]/g, "\\$&")}: `)),
  });
  expect(err.metadata.get("field")).toEqual([field]);
  expect(err.details.length).toBeLessThan(300);
  return err;
}

const lessonEvents = async () =>
  (await api.app.store.readStream(lessonsStreamId(a.classGroups.a5, 2026))).length;

const conduct = (over: Record<string, string>) =>
  admin.conductLesson({
    ...school,
    commandId: randomUUID(),
    classGroupId: a.classGroups.a5,
    lessonId,
    topic: "Дроби",
    workProgrammeItemId: "",
    homework: "",
    homeworkDue: "",
    conductedBy: "",
    ...over,
  });

const cancel = (reason: string) =>
  admin.cancelLesson({
    ...school,
    commandId: randomUUID(),
    classGroupId: a.classGroups.a5,
    lessonId,
    reason,
  });

describe("lesson texts", () => {
  it("refuses a topic or homework over the limit, or with NUL, and records nothing", async () => {
    const before = await lessonEvents();
    await expectInvalid(conduct({ topic: HUGE }), "topic");
    await expectInvalid(conduct({ topic: "x".repeat(501) }), "topic");
    await expectInvalid(conduct({ topic: NUL }), "topic");
    await expectInvalid(conduct({ topic: "Дроби\u0007" }), "topic");
    await expectInvalid(conduct({ homework: HUGE, homeworkDue: "2026-09-08" }), "homework");
    await expectInvalid(conduct({ homework: "x".repeat(4001) }), "homework");
    await expectInvalid(conduct({ homework: NUL, homeworkDue: "2026-09-08" }), "homework");
    await expectInvalid(conduct({ homeworkDue: HUGE, homework: "§ 5" }), "homework_due");
    await expectInvalid(cancel(NUL), "reason");
    await expectInvalid(cancel(HUGE), "reason");
    expect(await lessonEvents()).toBe(before);
    // Multi-line homework within the limit is fine.
    await conduct({ topic: "Дроби", homework: "§ 5\n№ 1-3", homeworkDue: "2026-09-08" });
    expect(await lessonEvents()).toBe(before + 1);
  });

  it("refuses ids with NUL or over 200 characters without echoing them", async () => {
    await expectInvalid(conduct({ lessonId: HUGE }), "lesson_id");
    await expectInvalid(conduct({ classGroupId: `${a.classGroups.a5}\u0000` }), "class_group_id");
    await expectInvalid(conduct({ schoolId: HUGE }), "school_id");
    await expectInvalid(conduct({ commandId: HUGE }), "command_id");
    await expectInvalid(conduct({ commandId: "c\u0000" }), "command_id");
  });
});

describe("catalogue, calendar, timetable and programme texts", () => {
  const subject = (over: Record<string, string>) =>
    admin.addSubject({
      commandId: randomUUID(),
      schoolId: a.schoolId,
      municipalityId: a.municipalityId,
      code: "ROBOTICS",
      name: "Робототехника",
      grading: Grading.GRADING_PASS_FAIL,
      ...over,
    });

  it("refuses bad subject codes and names with a short message", async () => {
    await expectInvalid(subject({ code: HUGE }), "code");
    await expectInvalid(subject({ name: HUGE }), "name");
    await expectInvalid(subject({ name: "x".repeat(201) }), "name");
    await expectInvalid(subject({ name: NUL }), "name");
    await expectInvalid(subject({ name: "Робо\nтехника" }), "name");
    await expectInvalid(subject({ name: " \t " }), "name");
    const { subjects } = await admin.listSubjects({ schoolId: a.schoolId });
    expect(subjects.filter((s) => s.schoolId === a.schoolId)).toEqual([]);
  });

  it("refuses a municipality other than the school's, writing nothing", async () => {
    const elsewhere = randomUUID();
    const err = await expectInvalid(subject({ municipalityId: elsewhere }), "municipality_id");
    expect(err.details).toBe(
      `municipality_id: school ${a.schoolId} belongs to municipality ${a.municipalityId}, not ${elsewhere}`,
    );
    const nextYear = { startYear: 2027 };
    await expectInvalid(
      admin.defineAcademicYear({
        schoolId: a.schoolId,
        academicYear: nextYear,
        commandId: randomUUID(),
        municipalityId: elsewhere,
        firstDay: "",
        lastDay: "",
        daysPerWeek: 5,
        timeZone: "",
      }),
      "municipality_id",
    );
    expect(await api.app.store.streamVersion(calendarStreamId(a.schoolId, 2027))).toBe(0);
    const { subjects } = await admin.listSubjects({ schoolId: a.schoolId });
    expect(subjects.filter((s) => s.schoolId === a.schoolId)).toEqual([]);
  });

  it("refuses a substitution outside the academic year, writing nothing", async () => {
    const timetable = timetableStreamId(a.schoolId, 2026);
    const before = await api.app.store.streamVersion(timetable);
    const substitute = (firstDay: string, lastDay: string) =>
      admin.assignSubstitute({
        ...school,
        commandId: randomUUID(),
        assignmentId,
        substituteId: a.teachers.sub,
        firstDay,
        lastDay,
      });
    const err = await expectInvalid(substitute("2025-09-14", "2025-09-18"), "first_day");
    expect(err.details).toBe(
      "first_day: must lie inside the academic year 2026-09-01 - 2027-08-31, got 2025-09-14",
    );
    await expectInvalid(substitute("2027-08-30", "2027-09-03"), "last_day");
    expect(await api.app.store.streamVersion(timetable)).toBe(before);
  });

  it("refuses bad non-school-day names and dates", async () => {
    const days = (over: Record<string, string>) =>
      admin.declareNonSchoolDays({
        ...school,
        commandId: randomUUID(),
        firstDay: "2026-11-02",
        lastDay: "2026-11-06",
        kind: NonSchoolDayKind.NON_SCHOOL_DAY_KIND_HOLIDAY,
        name: "Осенние каникулы",
        ...over,
      });
    await expectInvalid(days({ name: HUGE }), "name");
    await expectInvalid(days({ name: NUL }), "name");
    await expectInvalid(days({ firstDay: HUGE }), "first_day");
    await expectInvalid(admin.getAcademicCalendar({ schoolId: HUGE, academicYear }), "school_id");
    await expectInvalid(
      admin.defineAcademicYear({
        schoolId: randomUUID(),
        academicYear,
        commandId: randomUUID(),
        municipalityId: a.municipalityId,
        firstDay: "",
        lastDay: "",
        daysPerWeek: 5,
        timeZone: HUGE,
      }),
      "time_zone",
    );
    expect((await admin.getAcademicCalendar(school)).nonSchoolDays).toEqual([]);
  });

  it("refuses a bad room", async () => {
    const slot = (room: string) =>
      admin.addTimetableSlot({
        ...school,
        commandId: randomUUID(),
        weekday: 3,
        period: 2,
        classGroupId: a.classGroups.a5,
        subgroupId: "",
        subjectId: "MATH",
        teacherId: a.teachers.math,
        room,
        validFrom: "",
        validTo: "",
      });
    await expectInvalid(slot(HUGE), "room");
    await expectInvalid(slot("x".repeat(51)), "room");
    await expectInvalid(slot("12\u0000"), "room");
    const { slots } = await admin.getTimetable({
      ...school,
      classGroupId: "",
      teacherId: "",
      onDate: "",
    });
    expect(slots).toHaveLength(1);
  });

  it("refuses bad work programme topics", async () => {
    const draft = (topic: string) =>
      admin.draftWorkProgramme({
        ...school,
        commandId: randomUUID(),
        subjectId: "MATH",
        gradeLevel: 5,
        items: [
          { topic: "Натуральные числа", hours: 2 },
          { topic, hours: 1 },
        ],
        authorId: "",
      });
    await expectInvalid(draft(HUGE), "items[1].topic");
    await expectInvalid(draft("x".repeat(501)), "items[1].topic");
    await expectInvalid(draft(NUL), "items[1].topic");
    const err = await grpcError(
      admin.getWorkProgramme({ ...school, subjectId: "MATH", gradeLevel: 5, version: 0 }),
    );
    expect(err.code).toBe(status.NOT_FOUND);
  });
});
