import * as proto from "@otmetka/proto/curriculum/events/v1/events";
import { expect, it } from "vitest";
import { run } from "../test-support/replay.js";
import { calendarDecider } from "./calendar.js";
import { type AcademicYearDefined, eventName } from "./events.js";
import { lessonIdOf, lessonsDecider } from "./lessons.js";
import { catalogueDecider } from "./subject-catalogue.js";
import { timetableDecider } from "./timetable.js";
import { programmeDecider } from "./work-programme.js";

// Every payload the deciders produce must survive the proto codec unchanged (proto3 JSON).
it("decided payloads are the proto3 JSON of their proto messages", () => {
  const school = "0190f0a0-0000-7000-8000-000000000001";
  const calendar = run(calendarDecider, [
    {
      kind: "DefineAcademicYear",
      schoolId: school,
      municipalityId: school,
      startYear: 2026,
      daysPerWeek: 6,
    },
    {
      kind: "DefineTermSystem",
      schoolId: school,
      startYear: 2026,
      gradeLevels: [1],
      termKind: "TERM_KIND_HALF_YEAR",
      terms: [
        { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
        { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
      ],
    },
    {
      kind: "SetGradeWeekLength",
      schoolId: school,
      startYear: 2026,
      gradeLevels: [2, 3],
      daysPerWeek: 5,
      slots: [],
      plannedHours: [],
      lessons: [],
      today: "2026-09-01",
    },
    {
      kind: "DeclareNonSchoolDays",
      schoolId: school,
      startYear: 2026,
      firstDay: "2026-11-04",
      lastDay: "2026-11-04",
      dayKind: "NON_SCHOOL_DAY_KIND_DAY_OFF",
      name: "День народного единства",
    },
  ]).events;
  const subjects = run(catalogueDecider, [
    {
      schoolId: "",
      municipalityId: "",
      code: "RUS",
      name: "Русский язык",
      grading: "GRADING_FIVE_POINT",
    },
  ]).events;
  const year = calendar[0]?.data as AcademicYearDefined;
  const facts = {
    school: { schoolId: school, municipalityId: school, startYear: 2026, closedOn: null },
  };
  const target = {
    classGroupId: "cg",
    subgroupId: "sg",
    classGroup: {
      classGroupId: "cg",
      schoolId: school,
      startYear: 2026,
      gradeLevel: 5,
      letter: "А",
      closed: false,
    },
    subgroup: { subgroupId: "sg", classGroupId: "cg", subjectId: "ENG" },
  };
  const timetable = run(timetableDecider, [
    {
      kind: "AssignTeacher",
      ...facts,
      ...target,
      assignmentId: "a1",
      teacherId: "t1",
      teacherIsStaff: true,
      subjectId: "ENG",
      subjectKnown: true,
    },
    {
      kind: "AssignSubstitute",
      ...facts,
      assignmentId: "a1",
      substituteId: "t2",
      substituteIsStaff: true,
      firstDay: "2026-10-01",
      lastDay: "2026-10-02",
    },
    {
      kind: "AddTimetableSlot",
      ...facts,
      ...target,
      calendar: year,
      slotId: "s1",
      weekday: 6,
      period: 2,
      subjectId: "ENG",
      teacherId: "t1",
      room: "21",
      validFrom: "",
      validTo: "",
    },
    { kind: "EndTimetableSlot", ...facts, slotId: "s1", lastDay: "2026-12-31" },
    {
      kind: "EndTeacherAssignment",
      ...facts,
      assignmentId: "a1",
      lastDay: "2026-12-31",
      lessons: [],
    },
  ]).events;
  expect(eventName(timetable.at(-1)?.type ?? "")).toBe("TeacherAssignmentEnded");
  const scope = {
    schoolId: school,
    municipalityId: school,
    academicYear: { startYear: 2026 },
    classGroupId: "cg",
  };
  const wanted = (slotId: string, date: string) => ({
    slotId,
    date,
    term: 1,
    period: 2,
    subgroupId: "sg",
    subjectId: "ENG",
    teacherId: "t1",
    room: "21",
  });
  const lessons = run(lessonsDecider, [
    {
      kind: "GenerateLessons",
      scope,
      from: "2026-09-01",
      to: "2026-09-30",
      wanted: [wanted("s1", "2026-09-05"), wanted("s1", "2026-09-12"), wanted("s1", "2026-09-19")],
    },
    {
      kind: "ConductLesson",
      lessonId: lessonIdOf("s1", "2026-09-05"),
      topic: "Present Simple",
      workProgrammeItemId: "w1",
      programmeItemIds: new Set(["w1"]),
      homework: "Ex. 3",
      homeworkDue: "2026-09-12",
      conductedBy: "t1",
      conductedByIsStaff: true,
      today: "2026-09-05",
      nonSchoolDays: [],
    },
    { kind: "CancelLesson", lessonId: lessonIdOf("s1", "2026-09-12"), reason: "Карантин" },
    {
      kind: "MoveLesson",
      lessonId: lessonIdOf("s1", "2026-09-19"),
      toDate: "2026-09-18",
      toPeriod: 4,
      today: "2026-09-05",
      schoolDays: new Map([["2026-09-18", 1]]),
    },
    {
      kind: "GenerateLessons",
      scope,
      from: "2026-09-01",
      to: "2026-09-30",
      wanted: [wanted("s2", "2026-09-26")],
    },
  ]).events;
  expect(lessons.map((e) => eventName(e.type))).toEqual([
    "LessonScheduled",
    "LessonScheduled",
    "LessonScheduled",
    "LessonConducted",
    "LessonCancelled",
    "LessonMoved",
    "LessonScheduled",
  ]);
  lessons.push(
    ...lessonsDecider.decide(
      {
        kind: "GenerateLessons",
        scope,
        from: "2026-09-01",
        to: "2026-09-30",
        wanted: [{ ...wanted("s2", "2026-09-26"), teacherId: "t9" }],
      },
      run(lessonsDecider, [
        {
          kind: "GenerateLessons",
          scope,
          from: "2026-09-01",
          to: "2026-09-30",
          wanted: [wanted("s2", "2026-09-26")],
        },
      ]).state,
    ),
  );
  expect(eventName(lessons.at(-1)?.type ?? "")).toBe("LessonTeacherChanged");
  lessons.push(
    ...lessonsDecider.decide(
      { kind: "GenerateLessons", scope, from: "2026-09-01", to: "2026-09-30", wanted: [] },
      run(lessonsDecider, [
        {
          kind: "GenerateLessons",
          scope,
          from: "2026-09-01",
          to: "2026-09-30",
          wanted: [wanted("s3", "2026-09-26")],
        },
      ]).state,
    ),
  );
  expect(lessons.map((e) => eventName(e.type)).at(-1)).toBe("LessonUnscheduled");
  const programme = run(programmeDecider, [
    {
      kind: "DraftWorkProgramme",
      scope: { schoolId: school, municipalityId: school, academicYear: { startYear: 2026 } },
      subjectId: "ENG",
      subjectKnown: true,
      gradeLevel: 5,
      items: [{ topic: "Alphabet", hours: 2 }],
      authorId: "t1",
      authorIsStaff: true,
    },
    { kind: "ApproveWorkProgramme", version: 1, approvedBy: "t2", approverIsStaff: true },
  ]).events;
  expect(programme.length).toBe(2);
  const events = [...calendar, ...subjects, ...timetable, ...lessons, ...programme];

  for (const e of events) {
    const codec = (proto as unknown as Record<string, proto.MessageFns<unknown>>)[
      eventName(e.type)
    ];
    expect(codec, e.type).toBeDefined();
    const json = codec?.toJSON(codec.fromJSON(e.data)) as Record<string, unknown>;
    // proto3 JSON leaves out default values (empty strings); compare with those removed.
    const withoutDefaults = JSON.parse(
      JSON.stringify(e.data, (_k, v) => (v === "" ? undefined : v)),
    );
    expect(json).toEqual(withoutDefaults);
  }
});
