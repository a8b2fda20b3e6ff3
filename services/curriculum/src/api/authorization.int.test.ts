import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { Grading } from "@otmetka/proto/curriculum/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lessonsStreamId } from "../domain/lessons.js";
import { grpcError } from "../test-support/grpc-client.js";
import { startGrpcInProcess } from "../test-support/grpc-in-process.js";
import {
  identityEvent,
  publishIdentityEvents,
  schoolFixture,
} from "../test-support/identity-feed.js";
import { eventually, type InProcess, startInProcess } from "../test-support/in-process.js";
import { scheduleMathsLessons } from "../test-support/maths-lessons.js";

const env = useTestEnvironment({ label: "curriculum_auth" });
let app: InProcess;
let grpc: Awaited<ReturnType<typeof startGrpcInProcess>>;
const a = schoolFixture();
const b = schoolFixture();
const academicYear = { startYear: 2026 };
const school = { schoolId: a.schoolId, academicYear };
// Clients, each with one caller's token (signed in beforeAll).
let admin: ReturnType<Awaited<ReturnType<typeof startGrpcInProcess>>["client"]>;
let token: (roles: string[], pid?: string, sub?: string) => Promise<string>;
let assignmentId = "";
let firstLesson = "";
let secondLesson = "";
const adminAccount = randomUUID();

const as = async (roles: string[], pid?: string, sub?: string) =>
  grpc.client(await token(roles, pid, sub)).call;
const teacherOfA = (pid: string, sub?: string) => as([`TEACHER@school:${a.schoolId}`], pid, sub);

beforeAll(async () => {
  app = await startInProcess(env);
  grpc = await startGrpcInProcess(app);
  token = (roles, pid, sub) =>
    grpc.issuer.sign({ roles, ...(pid ? { pid } : {}), ...(sub ? { sub } : {}) });
  await publishIdentityEvents(app.nc, app.names, [...a.events, ...b.events]);
  await eventually(async () => {
    expect(await app.deps.facts.classGroup(a.classGroups.a5)).toBeDefined();
    expect(await app.deps.facts.classGroup(b.classGroups.a5)).toBeDefined();
  });
  // The school admin of A is a staff member of A (its Russian teacher's person).
  admin = grpc.client(
    await token([`SCHOOL_ADMIN@school:${a.schoolId}`], a.teachers.rus, adminAccount),
  );
  // Tuesdays, period 1: 1 and 8 September 2026.
  const set = await scheduleMathsLessons({
    platform: await as(["PLATFORM_ADMIN"]),
    admin: admin.call,
    a,
    toDate: "2026-09-08",
    lessons: 2,
  });
  assignmentId = set.assignmentId;
  [firstLesson, secondLesson] = set.lessonIds as [string, string];
});

afterAll(async () => {
  await grpc?.close();
  await app?.close();
});

const conduct = (lessonId: string, conductedBy = "") => ({
  ...school,
  commandId: randomUUID(),
  classGroupId: a.classGroups.a5,
  lessonId,
  topic: "Натуральные числа",
  workProgrammeItemId: "",
  homework: "",
  homeworkDue: "",
  conductedBy,
});

describe("callers of the curriculum API", () => {
  it("refuses a call without a token, or with a forged one, as UNAUTHENTICATED", async () => {
    const anonymous = grpc.client().call;
    const none = await grpcError(anonymous.getAcademicCalendar(school));
    expect(none.code).toBe(status.UNAUTHENTICATED);
    const forged = await grpcError(
      grpc.client("eyJhbGciOiJub25lIn0.e30.").call.listSubjects({ schoolId: "" }),
    );
    expect(forged.code).toBe(status.UNAUTHENTICATED);
  });

  it("refuses a teacher of school A on school B, and names the roles and the target", async () => {
    const teacher = await teacherOfA(a.teachers.math);
    const err = await grpcError(
      teacher.getTimetable({
        schoolId: b.schoolId,
        academicYear,
        classGroupId: "",
        teacherId: "",
        onDate: "",
      }),
    );
    expect([err.code, err.details]).toEqual([
      status.PERMISSION_DENIED,
      `caller: needs TEACHER or SCHOOL_ADMIN or MUNICIPAL_OFFICER or MINISTRY_OFFICER or PLATFORM_ADMIN or SERVICE for school ${b.schoolId}, municipality ${b.municipalityId}, region 74`,
    ]);
    // Reading their own school is fine; changing its timetable is the admin's.
    await teacher.getTimetable({ ...school, classGroupId: "", teacherId: "", onDate: "" });
    const slot = await grpcError(
      teacher.endTimetableSlot({ ...school, commandId: randomUUID(), slotId: "x", lastDay: "" }),
    );
    expect(slot.code).toBe(status.PERMISSION_DENIED);
    const generate = await grpcError(
      teacher.generateLessons({
        ...school,
        commandId: randomUUID(),
        fromDate: "",
        toDate: "",
        classGroupIds: [],
      }),
    );
    expect(generate.code).toBe(status.PERMISSION_DENIED);
    const week = { ...school, gradeLevels: [5], daysPerWeek: 5 };
    const setWeek = await grpcError(teacher.setGradeWeekLength({ ...week, commandId: "w" }));
    expect(setWeek.code).toBe(status.PERMISSION_DENIED);
  });

  it("lets the school's municipality and the region's ministry read, not another municipality", async () => {
    const mine = await as([`MUNICIPAL_OFFICER@municipality:${a.municipalityId}`]);
    expect((await mine.getAcademicCalendar(school)).daysPerWeek).toBe(5);
    const lessons = await mine.listClassGroupLessons({
      classGroupId: a.classGroups.a5,
      academicYear,
      fromDate: "2026-09-01",
      toDate: "2026-09-30",
    });
    expect(lessons.lessons).toHaveLength(2);
    const other = await as([`MUNICIPAL_OFFICER@municipality:${b.municipalityId}`]);
    expect((await grpcError(other.getAcademicCalendar(school))).code).toBe(
      status.PERMISSION_DENIED,
    );
    const ministry = await as(["MINISTRY_OFFICER@region:74"]);
    expect((await ministry.getStudyPlan(school)).entries).toEqual([]);
    const elsewhere = await as(["MINISTRY_OFFICER@region:66"]);
    expect((await grpcError(elsewhere.getStudyPlan(school))).code).toBe(status.PERMISSION_DENIED);
    // A pupil's token reads no school's lessons (their class group is not in the replica).
    const pupil = await as(["STUDENT"], randomUUID());
    expect(
      (
        await grpcError(
          pupil.listClassGroupLessons({
            classGroupId: a.classGroups.a5,
            academicYear,
            fromDate: "2026-09-01",
            toDate: "2026-09-30",
          }),
        )
      ).code,
    ).toBe(status.PERMISSION_DENIED);
  });

  it("lets a pupil and their guardian read the class group's lessons of the pupil's days only", async () => {
    const [stays, leaves, guardian, elsewhere] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    const at = { schoolId: a.schoolId, municipalityId: a.municipalityId };
    const enrol = (personId: string, g: typeof a) =>
      identityEvent(`person-${personId}`, "StudentEnrolled", {
        personId,
        classGroupId: g.classGroups.a5,
        schoolId: g.schoolId,
        municipalityId: g.municipalityId,
        academicYear,
        gradeLevel: 5,
        effectiveDate: "2026-09-01",
      });
    await publishIdentityEvents(app.nc, app.names, [
      enrol(stays, a),
      enrol(leaves, a),
      identityEvent(`person-${leaves}`, "StudentWithdrawn", {
        personId: leaves,
        classGroupId: a.classGroups.a5,
        ...at,
        effectiveDate: "2026-09-05",
      }),
      identityEvent(`person-${leaves}`, "GuardianLinked", {
        personId: leaves,
        guardianId: guardian,
        ...at,
      }),
      enrol(elsewhere, b),
    ]);
    await eventually(async () => expect(await app.deps.facts.wardsOf(guardian)).toEqual([leaves]));
    const request = {
      classGroupId: a.classGroups.a5,
      academicYear,
      fromDate: "2026-09-01",
      toDate: "2026-09-30",
    };
    const dates = async (roles: string[], pid: string) =>
      (await (await as(roles, pid)).listClassGroupLessons(request)).lessons.map((l) => l.date);
    expect(await dates(["STUDENT"], stays)).toEqual(["2026-09-01", "2026-09-08"]);
    // Withdrawn on 5 September: the pupil and their guardian see the days before only.
    expect(await dates(["STUDENT"], leaves)).toEqual(["2026-09-01"]);
    expect(await dates(["GUARDIAN"], guardian)).toEqual(["2026-09-01"]);
    const stranger = await as(["STUDENT"], elsewhere);
    expect((await grpcError(stranger.listClassGroupLessons(request))).code).toBe(
      status.PERMISSION_DENIED,
    );
    // A guardian is not staff: the teacher's day and the timetable stay closed.
    const parent = await as(["GUARDIAN"], guardian);
    expect(
      (
        await grpcError(
          parent.getTeacherDay({ ...school, teacherId: a.teachers.math, date: "2026-09-01" }),
        )
      ).code,
    ).toBe(status.PERMISSION_DENIED);
  });

  it("refuses another school's class group's lessons as an unknown class group's, naming neither its school nor municipality", async () => {
    // The refusal named the class group's school and municipality ("... for school S,
    // municipality M") and an unknown class group's only the region: any pupil or guardian
    // learned which school a class group id belongs to, and which ids exist.
    const missing = randomUUID();
    const lessonsOf = (classGroupId: string) => ({
      classGroupId,
      academicYear,
      fromDate: "2026-09-01",
      toDate: "2026-09-30",
    });
    for (const caller of [
      await as(["STUDENT"], randomUUID()),
      await as(["GUARDIAN"], randomUUID()),
      await as([`TEACHER@school:${b.schoolId}`], b.teachers.math),
    ]) {
      const known = await grpcError(caller.listClassGroupLessons(lessonsOf(a.classGroups.a5)));
      const none = await grpcError(caller.listClassGroupLessons(lessonsOf(missing)));
      expect([known.code, none.code]).toEqual([status.PERMISSION_DENIED, status.PERMISSION_DENIED]);
      expect(known.details).not.toContain(a.schoolId);
      expect(known.details).not.toContain(a.municipalityId);
      expect(known.details.replace(a.classGroups.a5, "<id>")).toBe(
        none.details.replace(missing, "<id>"),
      );
    }
  });

  it("keeps the regional catalogue to the ministry and a school's additions to its admin", async () => {
    const add = (schoolId: string, code: string) => ({
      commandId: randomUUID(),
      schoolId,
      municipalityId: schoolId ? a.municipalityId : "",
      code,
      name: code,
      grading: Grading.GRADING_PASS_FAIL,
    });
    const ministry = await as(["MINISTRY_OFFICER@region:74"]);
    await ministry.addSubject(add("", "ASTRO"));
    const teacher = await teacherOfA(a.teachers.math);
    expect((await grpcError(teacher.addSubject(add("", "CHESS")))).code).toBe(
      status.PERMISSION_DENIED,
    );
    expect((await grpcError(teacher.addSubject(add(a.schoolId, "CHESS")))).code).toBe(
      status.PERMISSION_DENIED,
    );
    expect((await admin.call.addSubject(add(a.schoolId, "CHESS"))).subjectId).toBe(
      `${a.schoolId}/CHESS`,
    );
    // Any verified caller reads the regional catalogue; a school's list needs its staff, or
    // a pupil of the school (or their guardian): their diaries name its subjects.
    const stranger = await as(["STUDENT"], randomUUID());
    expect((await stranger.listSubjects({ schoolId: "" })).subjects.map((s) => s.code)).toEqual([
      "ASTRO",
      "MATH",
    ]);
    expect((await grpcError(stranger.listSubjects({ schoolId: a.schoolId }))).code).toBe(
      status.PERMISSION_DENIED,
    );
    const [pupilId, parentId] = [randomUUID(), randomUUID()];
    const at = { schoolId: a.schoolId, municipalityId: a.municipalityId };
    await publishIdentityEvents(app.nc, app.names, [
      identityEvent(`person-${pupilId}`, "StudentEnrolled", {
        personId: pupilId,
        classGroupId: a.classGroups.a5,
        ...at,
        academicYear,
        gradeLevel: 5,
        effectiveDate: "2026-09-01",
      }),
      identityEvent(`person-${pupilId}`, "GuardianLinked", {
        personId: pupilId,
        guardianId: parentId,
        ...at,
      }),
    ]);
    await eventually(async () => expect(await app.deps.facts.wardsOf(parentId)).toEqual([pupilId]));
    for (const reader of [await as(["STUDENT"], pupilId), await as(["GUARDIAN"], parentId)]) {
      const codes = (await reader.listSubjects({ schoolId: a.schoolId })).subjects.map(
        (s) => s.code,
      );
      expect(codes).toContain("CHESS");
      // Not another school's additions.
      expect((await grpcError(reader.listSubjects({ schoolId: b.schoolId }))).code).toBe(
        status.PERMISSION_DENIED,
      );
    }
    // A guardian linked to no pupil of the school reads nothing of it.
    expect(
      (
        await grpcError(
          (await as(["GUARDIAN"], randomUUID())).listSubjects({ schoolId: a.schoolId }),
        )
      ).code,
    ).toBe(status.PERMISSION_DENIED);
  });

  it("lets a teacher draft a work programme as themselves, and only the school admin approve it", async () => {
    const programme = { ...school, subjectId: "MATH", gradeLevel: 5 };
    const teacher = await teacherOfA(a.teachers.math);
    const draft = await teacher.draftWorkProgramme({
      ...programme,
      commandId: randomUUID(),
      items: [{ topic: "Натуральные числа", hours: 2 }],
      authorId: "",
    });
    expect(draft.version).toBe(1);
    expect((await admin.call.getWorkProgramme({ ...programme, version: 1 })).authorId).toBe(
      a.teachers.math,
    );
    const asSomeoneElse = await grpcError(
      teacher.draftWorkProgramme({
        ...programme,
        commandId: randomUUID(),
        items: [{ topic: "x", hours: 1 }],
        authorId: a.teachers.en1,
      }),
    );
    expect([asSomeoneElse.code, asSomeoneElse.details]).toEqual([
      status.PERMISSION_DENIED,
      "author_id: a caller acts only as themselves",
    ]);
    const colleague = await teacherOfA(a.teachers.en1);
    const approve = { ...programme, version: 1, approvedBy: "" };
    const byTeacher = await grpcError(
      colleague.approveWorkProgramme({ ...approve, commandId: randomUUID() }),
    );
    expect([byTeacher.code, byTeacher.details]).toEqual([
      status.PERMISSION_DENIED,
      `caller: needs SCHOOL_ADMIN for school ${a.schoolId}, municipality ${a.municipalityId}, region 74`,
    ]);
    const platform = await as(["PLATFORM_ADMIN"], randomUUID());
    expect(
      (await grpcError(platform.approveWorkProgramme({ ...approve, commandId: randomUUID() })))
        .code,
    ).toBe(status.PERMISSION_DENIED);
    const naming = await grpcError(
      admin.call.approveWorkProgramme({
        ...approve,
        approvedBy: a.teachers.en1,
        commandId: randomUUID(),
      }),
    );
    expect(naming.code).toBe(status.PERMISSION_DENIED);
    await admin.call.approveWorkProgramme({ ...approve, commandId: randomUUID() });
    expect((await colleague.getWorkProgramme({ ...programme, version: 0 })).approvedBy).toBe(
      a.teachers.rus,
    );
  });

  it("refuses a teacher conducting another teacher's lesson; allows its substitute", async () => {
    const other = await teacherOfA(a.teachers.en1);
    const refused = await grpcError(other.conductLesson(conduct(firstLesson)));
    expect(refused.code).toBe(status.PERMISSION_DENIED);
    expect(refused.details).toMatch(
      /^lesson_id: lesson .+ is taught by .+; only its teacher, a substitute or a school admin conducts it$/,
    );
    const owner = await teacherOfA(a.teachers.math);
    const namingOther = await grpcError(owner.conductLesson(conduct(firstLesson, a.teachers.en1)));
    expect(namingOther.code).toBe(status.PERMISSION_DENIED);
    // A substitution added after generation: the lesson goes to the substitute.
    await admin.call.assignSubstitute({
      ...school,
      commandId: randomUUID(),
      assignmentId,
      substituteId: a.teachers.sub,
      firstDay: "2026-09-01",
      lastDay: "2026-09-01",
    });
    const subAccount = randomUUID();
    const substitute = await teacherOfA(a.teachers.sub, subAccount);
    await substitute.conductLesson(conduct(firstLesson));
    const events = await app.store.readStream(lessonsStreamId(a.classGroups.a5, 2026));
    const conducted = events.at(-1);
    expect(conducted?.type).toBe("curriculum.v1.LessonConducted");
    expect(conducted?.data).toMatchObject({ conductedBy: a.teachers.sub });
    // The actor is the token's account, not anything the caller states.
    expect(conducted?.metadata.actor).toEqual({
      id: subAccount,
      kind: "user",
      personId: a.teachers.sub,
    });
    // The substitution covers 1 September only.
    expect((await grpcError(substitute.conductLesson(conduct(secondLesson)))).code).toBe(
      status.PERMISSION_DENIED,
    );
  });

  it("keeps cancelling and moving to the admin, on the class groups of the admin's school", async () => {
    const owner = await teacherOfA(a.teachers.math);
    const cancel = {
      ...school,
      commandId: randomUUID(),
      classGroupId: a.classGroups.a5,
      lessonId: secondLesson,
      reason: "Карантин",
    };
    expect((await grpcError(owner.cancelLesson(cancel))).code).toBe(status.PERMISSION_DENIED);
    const foreign = await grpcError(
      admin.call.cancelLesson({ ...cancel, classGroupId: b.classGroups.a5 }),
    );
    expect([foreign.code, foreign.details]).toEqual([
      status.NOT_FOUND,
      `class_group_id: no class group of this school ${b.classGroups.a5}`,
    ]);
    expect(await admin.call.cancelLesson(cancel)).toEqual({ replayed: false });
  });
});
