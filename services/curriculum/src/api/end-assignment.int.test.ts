import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { Grading } from "@otmetka/proto/curriculum/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcError } from "../test-support/grpc-client.js";
import { startGrpcInProcess } from "../test-support/grpc-in-process.js";
import { publishIdentityEvents, schoolFixture } from "../test-support/identity-feed.js";
import { eventually, type InProcess, startInProcess } from "../test-support/in-process.js";

/* EndTeacherAssignment over gRPC: who may call it, and GetTimetable showing the end. */
const env = useTestEnvironment({ label: "curriculum_end_assignment_api" });
let app: InProcess;
let grpc: Awaited<ReturnType<typeof startGrpcInProcess>>;
const a = schoolFixture();
const academicYear = { startYear: 2026 };
const school = { schoolId: a.schoolId, academicYear };

beforeAll(async () => {
  app = await startInProcess(env);
  grpc = await startGrpcInProcess(app);
  await publishIdentityEvents(app.nc, app.names, a.events);
  await eventually(async () => {
    expect(await app.deps.facts.classGroup(a.classGroups.b5)).toBeDefined();
  });
});
afterAll(async () => {
  await grpc?.close();
  await app?.close();
});

describe("EndTeacherAssignment over gRPC", () => {
  it("is the school admin's; GetTimetable lists the assignment with its last day", async () => {
    const admin = grpc.client(
      await grpc.issuer.sign({ roles: [`SCHOOL_ADMIN@school:${a.schoolId}`], pid: a.teachers.rus }),
    ).call;
    const platform = grpc.client(await grpc.issuer.sign({ roles: ["PLATFORM_ADMIN"] })).call;
    const teacher = grpc.client(
      await grpc.issuer.sign({ roles: [`TEACHER@school:${a.schoolId}`], pid: a.teachers.math }),
    ).call;
    await platform.addSubject({
      commandId: randomUUID(),
      schoolId: "",
      municipalityId: "",
      code: "MATH",
      name: "Математика",
      grading: Grading.GRADING_FIVE_POINT,
    });
    const { assignmentId } = await admin.assignTeacher({
      ...school,
      commandId: randomUUID(),
      teacherId: a.teachers.math,
      subjectId: "MATH",
      classGroupId: a.classGroups.a5,
      subgroupId: "",
    });
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
