import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { useTestEnvironment } from "@otmetka/testing";
import { describe, expect, it } from "vitest";
import { grpcError } from "../test-support/grpc-client.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import { addMaths, assignMathsTeacher } from "../test-support/maths-lessons.js";
import { useSchoolApi } from "../test-support/school-api.js";

/* EndTeacherAssignment over gRPC: who may call it, and GetTimetable showing the end. */
const env = useTestEnvironment({ label: "curriculum_end_assignment_api" });
const a = schoolFixture();
const academicYear = { startYear: 2026 };
const school = { schoolId: a.schoolId, academicYear };
const api = useSchoolApi(env, a);

describe("EndTeacherAssignment over gRPC", () => {
  it("is the school admin's; GetTimetable lists the assignment with its last day", async () => {
    const { admin, platform, teacher } = api;
    await addMaths(platform);
    const assignmentId = await assignMathsTeacher(admin, a);
    const request = { ...school, commandId: randomUUID(), assignmentId, lastDay: "2026-12-25" };
    // The teacher may not end their own assignment.
    expect((await grpcError(teacher.endTeacherAssignment(request))).code).toBe(
      status.PERMISSION_DENIED,
    );
    const unknown = await grpcError(
      admin.endTeacherAssignment({ ...request, assignmentId: "nope" }),
    );
    expect([unknown.code, unknown.details]).toEqual([
      status.NOT_FOUND,
      "assignment_id: no teaching assignment nope",
    ]);
    const timetable = () =>
      teacher.getTimetable({ ...school, classGroupId: "", teacherId: a.teachers.math, onDate: "" });
    expect((await timetable()).assignments.map((x) => x.lastDay)).toEqual([""]);
    expect(await admin.endTeacherAssignment(request)).toEqual({ replayed: false });
    expect((await timetable()).assignments).toEqual([
      {
        assignmentId,
        teacherId: a.teachers.math,
        subjectId: "MATH",
        classGroupId: a.classGroups.a5,
        subgroupId: "",
        lastDay: "2026-12-25",
      },
    ]);
  });
});
