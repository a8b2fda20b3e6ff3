import { randomUUID } from "node:crypto";
import { Grading, TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import { expect } from "vitest";
import type { curriculumClient } from "./grpc-client.js";
import type { schoolFixture } from "./identity-feed.js";
import { eventually } from "./in-process.js";

type Call = ReturnType<typeof curriculumClient>["call"];

/**
 * A school's academic year (the terms' dates are 2026/27's) with the region's default dates
 * and zone, `daysPerWeek` school days, and half-year terms for grade 5.
 */
export async function defineHalfYearCalendar(
  admin: Call,
  o: {
    schoolId: string;
    academicYear: { startYear: number };
    municipalityId: string;
    daysPerWeek: number;
  },
) {
  const school = { schoolId: o.schoolId, academicYear: o.academicYear };
  await admin.defineAcademicYear({
    ...school,
    commandId: randomUUID(),
    municipalityId: o.municipalityId,
    firstDay: "",
    lastDay: "",
    daysPerWeek: o.daysPerWeek,
    timeZone: "",
  });
  await admin.defineTermSystem({
    ...school,
    commandId: randomUUID(),
    gradeLevels: [5],
    kind: TermKind.TERM_KIND_HALF_YEAR,
    terms: [
      { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
      { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
    ],
  });
}

/** The platform's subject MATH (five-point grading). */
export async function addMaths(platform: Call) {
  await platform.addSubject({
    commandId: randomUUID(),
    schoolId: "",
    municipalityId: "",
    code: "MATH",
    name: "Математика",
    grading: Grading.GRADING_FIVE_POINT,
  });
}

/** Fixture `a`'s maths teacher assigned to MATH in its 5А for 2026/27; the assignment's id. */
export async function assignMathsTeacher(
  admin: Call,
  a: ReturnType<typeof schoolFixture>,
): Promise<string> {
  const school = { schoolId: a.schoolId, academicYear: { startYear: 2026 } };
  const { assignmentId } = await admin.assignTeacher({
    ...school,
    commandId: randomUUID(),
    teacherId: a.teachers.math,
    subjectId: "MATH",
    classGroupId: a.classGroups.a5,
    subgroupId: "",
  });
  return assignmentId;
}

/**
 * MATH (platform), fixture `a`'s 2026/27 with half-year terms and five-day weeks, and its maths
 * teacher assigned to 5А; the assignment's id.
 */
export async function setUpMaths(
  platform: Call,
  admin: Call,
  a: ReturnType<typeof schoolFixture>,
): Promise<string> {
  const school = { schoolId: a.schoolId, academicYear: { startYear: 2026 } };
  await addMaths(platform);
  await defineHalfYearCalendar(admin, {
    ...school,
    municipalityId: a.municipalityId,
    daysPerWeek: 5,
  });
  return assignMathsTeacher(admin, a);
}

/** 5А's maths with fixture `a`'s maths teacher on Tuesdays, period 1, from `validFrom` ("": the year's start). */
export async function addMathsSlot(
  admin: Call,
  a: ReturnType<typeof schoolFixture>,
  validFrom = "",
): Promise<void> {
  await admin.addTimetableSlot({
    schoolId: a.schoolId,
    academicYear: { startYear: 2026 },
    commandId: randomUUID(),
    weekday: 2,
    period: 1,
    classGroupId: a.classGroups.a5,
    subgroupId: "",
    subjectId: "MATH",
    teacherId: a.teachers.math,
    room: "12",
    validFrom,
    validTo: "",
  });
}

/**
 * Mathematics for fixture `a`'s 5А over the gRPC API: the subject (platform), 2026/27 with
 * half-year terms, the maths teacher assigned, Tuesdays period 1, lessons generated from
 * 1 September to `toDate`; waits until the lessons read model lists `lessons` of them.
 */
export async function scheduleMathsLessons(o: {
  platform: Call;
  admin: Call;
  a: ReturnType<typeof schoolFixture>;
  toDate: string;
  lessons: number;
}): Promise<{ assignmentId: string; lessonIds: string[] }> {
  const { platform, admin, a } = o;
  const academicYear = { startYear: 2026 };
  const school = { schoolId: a.schoolId, academicYear };
  const assignmentId = await setUpMaths(platform, admin, a);
  await addMathsSlot(admin, a);
  await admin.generateLessons({
    ...school,
    commandId: randomUUID(),
    fromDate: "2026-09-01",
    toDate: o.toDate,
    classGroupIds: [],
  });
  // Lesson queries read the lessons read model, which follows the relayed events.
  const { lessons } = await eventually(async () => {
    const r = await admin.listClassGroupLessons({
      classGroupId: a.classGroups.a5,
      academicYear,
      fromDate: "2026-09-01",
      toDate: o.toDate,
    });
    expect(r.lessons).toHaveLength(o.lessons);
    return r;
  });
  return { assignmentId, lessonIds: lessons.map((l) => l.lessonId) };
}
