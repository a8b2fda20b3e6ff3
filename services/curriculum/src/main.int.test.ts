import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { Grading, NonSchoolDayKind, TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import {
  freePort,
  startTestTokenIssuer,
  type TestTokenIssuer,
  useTestEnvironment,
} from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CurriculumProcess,
  startCurriculumProcess,
} from "./test-support/curriculum-process.js";
import { checkHealth, curriculumClient, grpcError } from "./test-support/grpc-client.js";
import { publishIdentityEvents, schoolFixture } from "./test-support/identity-feed.js";
import { eventually } from "./test-support/in-process.js";
import { defineHalfYearCalendar } from "./test-support/maths-lessons.js";

const env = useTestEnvironment({ label: "curriculum_main" });
let service: CurriculumProcess;
let address: string;
let client: ReturnType<typeof curriculumClient>;
let issuer: TestTokenIssuer;
const schoolId = randomUUID();
const municipalityId = randomUUID();
const academicYear = { startYear: 2026 };

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  address = `127.0.0.1:${await freePort()}`;
  service = startCurriculumProcess({
    ...env.env,
    AUTH_JWKS_URL: issuer.jwksUrl,
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: address.split(":")[1] as string,
    SHUTDOWN_GRACE_MS: "100",
  });
  await service.waitForOutput("grpc server listening", 40_000);
  // A platform admin by default: these tests are about the rules, not the roles.
  client = curriculumClient(address, await issuer.sign({ roles: ["PLATFORM_ADMIN"] }));
});

afterAll(async () => {
  client?.close();
  if (service && service.child.exitCode === null) service.child.kill("SIGKILL");
  await issuer?.stop();
});

describe("curriculum service process", () => {
  it("migrates its database and serves health", async () => {
    expect(await checkHealth(address)).toBe("SERVING");
    expect(await checkHealth(address, "otmetka.curriculum.v1.CurriculumService")).toBe("SERVING");
  });

  it("verifies callers against AUTH_JWKS_URL", async () => {
    const request = { schoolId, academicYear };
    const none = await grpcError(client.as(undefined).getAcademicCalendar(request));
    expect([none.code, none.details]).toEqual([
      status.UNAUTHENTICATED,
      "authorization: missing (send 'authorization: Bearer <token>')",
    ]);
    const teacher = await issuer.sign({ roles: [`TEACHER@school:${randomUUID()}`] });
    const elsewhere = await grpcError(client.as(teacher).getAcademicCalendar(request));
    expect([elsewhere.code, elsewhere.details]).toEqual([
      status.PERMISSION_DENIED,
      `caller: needs TEACHER or SCHOOL_ADMIN or MUNICIPAL_OFFICER or MINISTRY_OFFICER or PLATFORM_ADMIN or SERVICE for school ${schoolId}, region 74`,
    ]);
  });

  it("defines a calendar over gRPC, idempotently, and relays its events with school tokens", async () => {
    const define = {
      commandId: randomUUID(),
      schoolId,
      municipalityId,
      academicYear,
      firstDay: "",
      lastDay: "",
      daysPerWeek: 5,
      timeZone: "",
    };
    expect(await client.call.defineAcademicYear(define)).toEqual({ replayed: false });
    expect(await client.call.defineAcademicYear(define)).toEqual({ replayed: true });
    await client.call.defineTermSystem({
      commandId: randomUUID(),
      schoolId,
      academicYear,
      gradeLevels: [5],
      kind: TermKind.TERM_KIND_HALF_YEAR,
      terms: [
        { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
        { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
      ],
    });
    await client.call.declareNonSchoolDays({
      commandId: randomUUID(),
      schoolId,
      academicYear,
      firstDay: "2026-12-30",
      lastDay: "2027-01-08",
      kind: NonSchoolDayKind.NON_SCHOOL_DAY_KIND_HOLIDAY,
      name: "Зимние каникулы",
    });
    // Seniors on six days; a retry answers replayed.
    const senior = { commandId: randomUUID(), schoolId, academicYear, gradeLevels: [10, 11] };
    const setWeek = { ...senior, daysPerWeek: 6 };
    expect(await client.call.setGradeWeekLength(setWeek)).toEqual({ replayed: false });
    expect(await client.call.setGradeWeekLength(setWeek)).toEqual({ replayed: true });
    const calendar = await client.call.getAcademicCalendar({ schoolId, academicYear });
    expect(calendar.gradeWeekLengths.map((w) => [w.gradeLevel, w.daysPerWeek])).toEqual(
      Array.from({ length: 11 }, (_, i) => [i + 1, i >= 9 ? 6 : 5]),
    );
    expect(calendar).toMatchObject({
      firstDay: "2026-09-01",
      lastDay: "2027-05-31",
      daysPerWeek: 5,
      timeZone: "Asia/Yekaterinburg",
      termSystems: [{ gradeLevels: [5], kind: TermKind.TERM_KIND_HALF_YEAR }],
      nonSchoolDays: [{ firstDay: "2026-12-30", lastDay: "2027-01-08", name: "Зимние каникулы" }],
    });

    const nc = await connect({ servers: env.natsUrl });
    try {
      const consumer = await jetstream(nc).consumers.get(`${env.natsPrefix}_CURRICULUM`);
      const types: string[] = [];
      for (let i = 0; i < 4; i++) {
        const m = await consumer.next({ expires: 30_000 });
        expect(m?.subject).toMatch(
          new RegExp(
            `^${env.natsPrefix}\\.curriculum\\.v1\\.${municipalityId}\\.${schoolId}\\.\\d+\\.`,
          ),
        );
        types.push(m?.subject.split(".").at(-1) ?? "");
      }
      expect(types).toEqual([
        "AcademicYearDefined",
        "TermSystemDefined",
        "NonSchoolDaysDeclared",
        "GradeWeekLengthSet",
      ]);
    } finally {
      await nc.close();
    }
  });

  it("answers typed errors naming the field, and changes nothing", async () => {
    const overlap = await grpcError(
      client.call.defineTermSystem({
        commandId: randomUUID(),
        schoolId,
        academicYear,
        gradeLevels: [6],
        kind: TermKind.TERM_KIND_HALF_YEAR,
        terms: [
          { number: 1, firstDay: "2026-09-01", lastDay: "2027-01-10" },
          { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
        ],
      }),
    );
    expect(overlap.code).toBe(status.FAILED_PRECONDITION);
    expect(overlap.details).toBe("terms: term 2 (from 2027-01-01) overlaps term 1 (to 2027-01-10)");
    const calendar = await client.call.getAcademicCalendar({ schoolId, academicYear });
    expect(calendar.termSystems.flatMap((s) => s.gradeLevels)).toEqual([5]);

    const firstGraders = await grpcError(
      client.call.setGradeWeekLength({
        commandId: randomUUID(),
        schoolId,
        academicYear,
        gradeLevels: [1],
        daysPerWeek: 6,
      }),
    );
    expect([firstGraders.code, firstGraders.details]).toEqual([
      status.INVALID_ARGUMENT,
      'days_per_week: grade 1 always has a 5-day week (SanPiN 1.2.3685-21: "1 класс — 5-дневная учебная неделя")',
    ]);

    const badYear = await grpcError(client.call.getAcademicCalendar({ schoolId }));
    expect([badYear.code, badYear.details]).toEqual([
      status.INVALID_ARGUMENT,
      "academic_year: must be given as start_year 2000-2100 (e.g. 2026 for 2026/2027)",
    ]);
    const reused = await grpcError(
      client.call
        .addSubject({
          commandId: "same",
          schoolId: "",
          code: "RUS",
          name: "Русский язык",
          grading: Grading.GRADING_FIVE_POINT,
          municipalityId: "",
        })
        .then(() =>
          client.call.addSubject({
            commandId: "same",
            schoolId: "",
            code: "LIT",
            name: "Литература",
            grading: Grading.GRADING_FIVE_POINT,
            municipalityId: "",
          }),
        ),
    );
    expect(reused.details).toBe("command_id: was already used for a different command");
  });

  it("lists regional subjects with a school's own additions", async () => {
    const add = (code: string, name: string, school = "", grading = Grading.GRADING_FIVE_POINT) =>
      client.call.addSubject({
        commandId: randomUUID(),
        schoolId: school,
        municipalityId: school ? municipalityId : "",
        code,
        name,
        grading,
      });
    await add("MATH", "Математика");
    expect(await add("CHESS", "Шахматы", schoolId, Grading.GRADING_PASS_FAIL)).toEqual({
      subjectId: `${schoolId}/CHESS`,
      replayed: false,
    });
    const taken = await grpcError(add("MATH", "Математика (школьная)", schoolId));
    expect([taken.code, taken.details]).toEqual([
      status.FAILED_PRECONDITION,
      "code: MATH is a regional subject; a school adds only its own codes",
    ]);
    const codes = (r: { subjects: { code: string }[] }) => r.subjects.map((s) => s.code);
    expect(codes(await client.call.listSubjects({ schoolId: "" }))).toEqual(["MATH", "RUS"]);
    const withSchool = await client.call.listSubjects({ schoolId });
    expect(codes(withSchool)).toEqual(["CHESS", "MATH", "RUS"]);
    expect(withSchool.subjects[0]).toMatchObject({ grading: Grading.GRADING_PASS_FAIL, schoolId });
  });

  it("keeps a study plan within the weekly load, over gRPC", async () => {
    const set = (subjectId: string, hoursPerWeek: number) =>
      client.call.setStudyPlanHours({
        commandId: randomUUID(),
        schoolId,
        academicYear,
        gradeLevel: 5,
        subjectId,
        hoursPerWeek,
      });
    await set("MATH", 5);
    await set("RUS", 6);
    await set(`${schoolId}/CHESS`, 1);
    const over = await grpcError(set("MATH", 23));
    expect([over.code, over.details]).toEqual([
      status.INVALID_ARGUMENT,
      "hours_per_week: must be a whole number 0-10, got 23",
    ]);
    await set("MATH", 10);
    await set("RUS", 10);
    const load = await grpcError(set(`${schoolId}/CHESS`, 10));
    expect([load.code, load.details]).toEqual([
      status.FAILED_PRECONDITION,
      "hours_per_week: grade 5 would have 30 lessons a week, more than the 29 allowed on a 5-day week",
    ]);
    expect((await grpcError(set("LIT", 2))).code).toBe(status.NOT_FOUND);
    const plan = await client.call.getStudyPlan({ schoolId, academicYear });
    expect(plan.entries.map((e) => [e.subjectId, e.hoursPerWeek])).toEqual([
      [`${schoolId}/CHESS`, 1],
      ["MATH", 10],
      ["RUS", 10],
    ]);
  });

  it("learns identity's facts from its stream, then assigns, books and generates over gRPC", async () => {
    const f = schoolFixture();
    const nc = await connect({ servers: env.natsUrl });
    try {
      await publishIdentityEvents(nc, messagingNames(env.natsPrefix), f.events);
    } finally {
      await nc.close();
    }
    const school = { schoolId: f.schoolId, academicYear };
    await defineHalfYearCalendar(client.call, {
      ...school,
      municipalityId: f.municipalityId,
      daysPerWeek: 6,
    });
    const assign = {
      ...school,
      commandId: randomUUID(),
      teacherId: f.teachers.math,
      subjectId: "MATH",
      classGroupId: f.classGroups.a5,
      subgroupId: "",
    };
    // The replica catches up asynchronously: until then the school is unknown (NOT_FOUND).
    const { assignmentId } = await eventually(() => client.call.assignTeacher(assign));
    expect(assignmentId).toMatch(/^[0-9a-f-]{36}$/);
    const { slotId } = await client.call.addTimetableSlot({
      ...school,
      commandId: randomUUID(),
      weekday: 6,
      period: 2,
      classGroupId: f.classGroups.a5,
      subgroupId: "",
      subjectId: "MATH",
      teacherId: f.teachers.math,
      room: "7",
      validFrom: "",
      validTo: "",
    });
    const generated = await client.call.generateLessons({
      ...school,
      commandId: randomUUID(),
      fromDate: "",
      toDate: "",
      classGroupIds: [],
    });
    expect(generated).toMatchObject({ classGroups: 1, unscheduled: 0, replayed: false });
    expect(generated.scheduled).toBeGreaterThan(30);
    // 5 September 2026 is a Saturday: a six-day week teaches it.
    // Served by the lessons read model, which follows the relayed events.
    await eventually(async () => {
      const day = await client.call.getTeacherDay({
        ...school,
        teacherId: f.teachers.math,
        date: "2026-09-05",
      });
      expect(day.lessons.map((l) => [l.classGroupId, l.period, l.room, l.status])).toEqual([
        [f.classGroups.a5, 2, "7", 1],
      ]);
    });
    expect(
      (
        await client.call.getTimetable({ ...school, classGroupId: "", teacherId: "", onDate: "" })
      ).slots.map((s) => s.slotId),
    ).toEqual([slotId]);

    // The study plan asks 5 hours of mathematics in grade 5; the timetable has one slot in 5А.
    await client.call.setStudyPlanHours({
      ...school,
      commandId: randomUUID(),
      gradeLevel: 5,
      subjectId: "MATH",
      hoursPerWeek: 5,
    });
    // An approved programme of 3 hours where the plan asks 5 a week over the school year.
    const programme = { ...school, subjectId: "MATH", gradeLevel: 5 };
    await client.call.draftWorkProgramme({
      ...programme,
      commandId: randomUUID(),
      items: [{ topic: "Натуральные числа", hours: 3 }],
      authorId: f.teachers.math,
    });
    const admin = client.as(
      await issuer.sign({ roles: [`SCHOOL_ADMIN@school:${f.schoolId}`], pid: f.teachers.rus }),
    );
    await admin.approveWorkProgramme({
      ...programme,
      commandId: randomUUID(),
      version: 1,
      approvedBy: "",
    });
    const coverage = await client.call.getStudyPlanCoverage({ ...school, onDate: "" });
    // 1 Sep 2026 - 31 May 2027 has 273 days, 39 of them Sundays: 234 days of a six-day week.
    expect(coverage.programmeMismatches).toEqual([
      {
        gradeLevel: 5,
        subjectId: "MATH",
        weeklyHours: 5,
        schoolWeeks: 39,
        plannedHours: 195,
        programmeVersion: 1,
        programmeHours: 3,
      },
    ]);
    expect(coverage.onDate).toBe("2026-09-01");
    expect(
      coverage.mismatches.map((m) => [
        m.classGroupId,
        m.subjectId,
        m.plannedHours,
        m.timetabledHours,
      ]),
    ).toEqual(
      [
        [f.classGroups.a5, "MATH", 5, 1],
        [f.classGroups.b5, "MATH", 5, 0],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
  });
});
