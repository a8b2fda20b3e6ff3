import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { useTestEnvironment } from "@otmetka/testing";
import { describe, expect, it } from "vitest";
import { grpcError } from "../test-support/grpc-client.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import { eventually } from "../test-support/in-process.js";
import { addMathsSlot, assignMathsTeacher, setUpMaths } from "../test-support/maths-lessons.js";
import { useSchoolApi } from "../test-support/school-api.js";

/*
 * ConductLesson's check of who teaches a lesson clips a substitution to its assignment's
 * last day, as generation does: the substitute of an ended assignment is a stranger to a
 * later assignment's lesson inside the old substitution's dates.
 */
const env = useTestEnvironment({ label: "curriculum_ended_substitution" });
const a = schoolFixture();
const academicYear = { startYear: 2026 };
const school = { schoolId: a.schoolId, academicYear };
const api = useSchoolApi(env, a);

const teacherOfA = async (pid: string) =>
  api.grpc.client(await api.grpc.issuer.sign({ roles: [`TEACHER@school:${a.schoolId}`], pid }))
    .call;

describe("ConductLesson after an assignment with a substitution ended", () => {
  it("refuses the old substitute as any other teacher; accepts the teacher", async () => {
    const { admin, platform, teacher } = api;
    const ended = await setUpMaths(platform, admin, a);
    await admin.assignSubstitute({
      ...school,
      commandId: randomUUID(),
      assignmentId: ended,
      substituteId: a.teachers.sub,
      firstDay: "2026-09-14",
      lastDay: "2026-09-30",
    });
    await admin.endTeacherAssignment({
      ...school,
      commandId: randomUUID(),
      assignmentId: ended,
      lastDay: "2026-09-08",
    });
    // The teacher again, from 15 September (a Tuesday) with a slot.
    await assignMathsTeacher(admin, a);
    await addMathsSlot(admin, a, "2026-09-15");
    await admin.generateLessons({
      ...school,
      commandId: randomUUID(),
      fromDate: "2026-09-15",
      toDate: "2026-09-15",
      classGroupIds: [],
    });
    const lesson = await eventually(async () => {
      const { lessons } = await admin.listClassGroupLessons({
        classGroupId: a.classGroups.a5,
        academicYear,
        fromDate: "2026-09-15",
        toDate: "2026-09-15",
      });
      expect(lessons.map((l) => l.teacherId)).toEqual([a.teachers.math]);
      return lessons[0] as (typeof lessons)[number];
    });
    api.app.deps.clock = { now: () => new Date("2026-09-15T10:00:00Z") }; // after the lesson
    const conduct = {
      ...school,
      classGroupId: a.classGroups.a5,
      lessonId: lesson.lessonId,
      topic: "Натуральные числа",
      workProgrammeItemId: "",
      homework: "",
      homeworkDue: "",
      conductedBy: "",
    };
    const refusal = async (pid: string) => {
      const e = await grpcError(
        (await teacherOfA(pid)).conductLesson({ ...conduct, commandId: randomUUID() }),
      );
      return [e.code, e.details];
    };
    const stranger = await refusal(a.teachers.en1);
    expect(stranger[0]).toBe(status.PERMISSION_DENIED);
    expect(await refusal(a.teachers.sub)).toEqual(stranger);
    expect(await teacher.conductLesson({ ...conduct, commandId: randomUUID() })).toEqual({
      replayed: false,
    });
  });
});
