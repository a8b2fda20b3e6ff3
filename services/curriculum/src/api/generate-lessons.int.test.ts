import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { useTestEnvironment } from "@otmetka/testing";
import { describe, expect, it } from "vitest";
import { lessonsStreamId } from "../domain/lessons.js";
import { grpcError } from "../test-support/grpc-client.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import { scheduleMathsLessons } from "../test-support/maths-lessons.js";
import { useSchoolApi } from "../test-support/school-api.js";

/* GenerateLessons over gRPC: what the response reports. */
const env = useTestEnvironment({ label: "curriculum_generate_api" });
const a = schoolFixture();
const academicYear = { startYear: 2026 };
const school = { schoolId: a.schoolId, academicYear };
const api = useSchoolApi(env, a);

describe("GenerateLessons over gRPC", () => {
  it("reports the lessons it skipped because their teacher was taken", async () => {
    const { admin, platform } = api;
    // 5А: maths on Tuesdays period 1 (1 and 8 September).
    const { lessonIds } = await scheduleMathsLessons({
      platform,
      admin,
      a,
      toDate: "2026-09-08",
      lessons: 2,
    });
    // 5Б: maths with the same teacher on Wednesdays period 1, not generated yet.
    const b5 = { ...school, classGroupId: a.classGroups.b5, subgroupId: "", subjectId: "MATH" };
    await admin.assignTeacher({ ...b5, commandId: randomUUID(), teacherId: a.teachers.math });
    await admin.addTimetableSlot({
      ...b5,
      commandId: randomUUID(),
      weekday: 3,
      period: 1,
      teacherId: a.teachers.math,
      room: "14",
      validFrom: "",
      validTo: "",
    });
    // 5А's 8 September lesson moved into that teacher's Wednesday 9 September period 1.
    await admin.moveLesson({
      ...school,
      commandId: randomUUID(),
      classGroupId: a.classGroups.a5,
      lessonId: lessonIds[1] as string,
      toDate: "2026-09-09",
      toPeriod: 1,
    });
    const request = {
      ...school,
      commandId: randomUUID(),
      fromDate: "2026-09-01",
      toDate: "2026-09-16",
      classGroupIds: [a.classGroups.b5],
    };
    const expected = {
      classGroups: 1,
      scheduled: 2,
      unscheduled: 0,
      teacherChanged: 0,
      skipped: 1,
    };
    expect(await admin.generateLessons(request)).toEqual({ ...expected, replayed: false });
    // A retry answers the same, from the command record.
    expect(await admin.generateLessons(request)).toEqual({ ...expected, replayed: true });
  });

  it("refuses a class group listed twice, writing nothing", async () => {
    const { admin } = api;
    const stream = lessonsStreamId(a.classGroups.a5, 2026);
    const before = await api.app.store.streamVersion(stream);
    const err = await grpcError(
      admin.generateLessons({
        ...school,
        commandId: randomUUID(),
        fromDate: "2026-09-01",
        toDate: "2026-09-30",
        classGroupIds: [a.classGroups.a5, a.classGroups.a5],
      }),
    );
    expect([err.code, err.details]).toEqual([
      status.INVALID_ARGUMENT,
      `class_group_ids: lists class group ${a.classGroups.a5} more than once`,
    ]);
    expect(await api.app.store.streamVersion(stream)).toBe(before);
  });

  it("refuses a command id reused with other class groups before generating any", async () => {
    const { admin } = api;
    const request = {
      ...school,
      commandId: randomUUID(),
      fromDate: "2026-09-17",
      toDate: "2026-09-23",
      classGroupIds: [a.classGroups.b5],
    };
    expect(await admin.generateLessons(request)).toMatchObject({ scheduled: 1 });
    const a5 = lessonsStreamId(a.classGroups.a5, 2026);
    const before = await api.app.store.streamVersion(a5);
    const err = await grpcError(
      admin.generateLessons({ ...request, classGroupIds: [a.classGroups.b5, a.classGroups.a5] }),
    );
    expect([err.code, err.details]).toEqual([
      status.INVALID_ARGUMENT,
      "command_id: was already used for a different command",
    ]);
    // 5А's Tuesday 22 September was not generated under the reused id: a generation with a
    // new id still schedules it (and nothing else happened to the stream before it).
    const fresh = { ...request, commandId: randomUUID(), classGroupIds: [a.classGroups.a5] };
    expect(await admin.generateLessons(fresh)).toMatchObject({ scheduled: 1 });
    expect(await api.app.store.streamVersion(a5)).toBe(before + 1);
  });

  it("refuses a command id another command used, generating nothing", async () => {
    const { admin } = api;
    const commandId = randomUUID();
    await admin.assignTeacher({
      ...school,
      commandId,
      teacherId: a.teachers.rus,
      subjectId: "MATH",
      classGroupId: a.classGroups.b5,
      subgroupId: "",
    });
    const a5 = lessonsStreamId(a.classGroups.a5, 2026);
    const before = await api.app.store.streamVersion(a5);
    const err = await grpcError(
      admin.generateLessons({
        ...school,
        commandId,
        fromDate: "2026-09-24",
        toDate: "2026-09-30",
        classGroupIds: [a.classGroups.a5],
      }),
    );
    expect([err.code, err.details]).toEqual([
      status.INVALID_ARGUMENT,
      "command_id: was already used for a different command",
    ]);
    expect(await api.app.store.streamVersion(a5)).toBe(before);
  });
});
