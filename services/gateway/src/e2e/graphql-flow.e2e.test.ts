import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  freePort,
  eventually as retryUntilPasses,
  type ServiceProcess,
  startServiceProcess,
  useTestEnvironment,
} from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { commandOperation } from "../mutations/typed.js";
import { openSubscription, type Subscription } from "./sse.js";

/*
 * Issue 13's end-to-end test: identity, curriculum, grades, reporting and the gateway as real
 * processes against real PostgreSQL and NATS; identity signs the tokens (bootstrap admin, then
 * accounts created through GraphQL). Everything below goes through GraphQL only: a school set
 * up, pupils enrolled, lessons scheduled, marks recorded and corrected, attendance taken; the
 * diary, journal and school dashboard change, and open SSE subscriptions receive each change.
 */
const env = useTestEnvironment({ label: "gateway_flow" });
const serviceDir = (name: string) => fileURLToPath(new URL(`../../../${name}`, import.meta.url));
const ADMIN_PASSWORD = `admin-${randomBytes(12).toString("hex")}`;

const procs: ServiceProcess[] = [];
const addr: Record<string, string> = {};
let jwksUrl: string;
let url: string;

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: {
    message: string;
    locations?: { line: number; column: number }[];
    path?: (string | number)[];
    extensions?: { code?: string; field?: string };
  }[];
}

async function start(name: string, extra: Record<string, string>, ready = "grpc server listening") {
  const port = await freePort();
  const db = name === "gateway" ? undefined : await env.createDatabase(name);
  const p = startServiceProcess({
    name,
    cwd: serviceDir(name),
    env: {
      ...env.env,
      ...(db ? { DATABASE_URL: db.url } : {}),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(port),
      AUTH_JWKS_URL: jwksUrl,
      SHUTDOWN_GRACE_MS: "100",
      LOG_LEVEL: "info",
      ...extra,
    },
  });
  procs.push(p);
  await p.waitForOutput(ready, 90_000);
  addr[name] = `127.0.0.1:${port}`;
}

beforeAll(async () => {
  const identityHttp = await freePort();
  jwksUrl = `http://127.0.0.1:${identityHttp}/.well-known/jwks.json`;
  await start("identity", {
    IDENTITY_MASTER_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    IDENTITY_BLIND_INDEX_KEY: randomBytes(32).toString("base64"),
    IDENTITY_HTTP_HOST: "127.0.0.1",
    IDENTITY_HTTP_PORT: String(identityHttp),
    IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  await Promise.all([start("curriculum", {}), start("grades", {}), start("reporting", {})]);
  const http = await freePort();
  url = `http://127.0.0.1:${http}/graphql`;
  await start(
    "gateway",
    {
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(http),
      IDENTITY_GRPC_ADDRESS: addr.identity as string,
      CURRICULUM_GRPC_ADDRESS: addr.curriculum as string,
      GRADES_GRPC_ADDRESS: addr.grades as string,
      REPORTING_GRPC_ADDRESS: addr.reporting as string,
      GATEWAY_RATE_LIMIT_PER_MINUTE: "100000",
    },
    "gateway listening",
  );
}, 240_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
});

async function gql(token: string | undefined, query: string, variables?: object): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Answer;
}

const codeOf = (a: Answer) => a.errors?.[0]?.extensions?.code;

/** Runs a command; retries while a service has not yet replicated what it needs. */
async function run(token: string, field: string, input: object, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  const commandId = randomUUID();
  for (;;) {
    const a = await gql(token, commandOperation(field), { c: commandId, i: input });
    if (!a.errors) return (a.data as Record<string, Record<string, unknown>>)[field] ?? {};
    const code = codeOf(a);
    if (Date.now() > deadline || (code !== "UNAVAILABLE" && code !== "NOT_FOUND"))
      throw new Error(`${field}: ${JSON.stringify(a.errors)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const eventually = <T>(check: () => Promise<T>, timeoutMs = 90_000) =>
  retryUntilPasses(check, timeoutMs, 250);

async function login(username: string, password: string) {
  const a = await gql(
    undefined,
    `mutation { login(commandId: "${randomUUID()}", input: { username: "${username}", password: "${password}" }) { tokens { accessToken refreshToken } } }`,
  );
  const tokens = (a.data?.login as { tokens?: { accessToken: string; refreshToken: string } })
    ?.tokens;
  if (!tokens) throw new Error(`login ${username}: ${JSON.stringify(a)}`);
  return tokens;
}

const personal = (familyName: string, birthDate: string) => ({
  familyName,
  givenName: "Иван",
  birthDate,
  sex: "SEX_MALE",
});

/** Waits until the subscription has received more than `n` notices. */
const more = (s: Subscription, n: number) =>
  eventually(async () => {
    if (s.events.length <= n) throw new Error(`${s.name}: ${s.events.length} notices`);
  });

it("sets up a school, marks, corrects, takes attendance through GraphQL; views and subscriptions follow", async () => {
  const admin = (await login("admin", ADMIN_PASSWORD)).accessToken;

  // Identity: municipality, two schools, staff, pupils, a guardian, class groups, enrolments.
  const { municipalityId } = (await run(admin, "registerMunicipality", {
    name: "Копейский ГО",
  })) as { municipalityId: string };
  const school = (name: string, inn: string) =>
    run(admin, "registerSchool", {
      municipalityId,
      name,
      shortName: name,
      address: "ул. Ленина, 1",
      inn,
      ogrn: "1027700132195",
    }) as Promise<{ schoolId: string }>;
  const { schoolId } = await school("МОУ СОШ № 1", "7707083893");
  const { schoolId: otherSchoolId } = await school("МОУ СОШ № 2", "7736050003");
  const person = async (kind: string, name: string, born: string, at = schoolId) =>
    (
      (await run(admin, "registerPerson", {
        kind,
        schoolId: at,
        personalData: personal(name, born),
      })) as {
        personId: string;
      }
    ).personId;
  const teacher = await person("PERSON_KIND_STAFF", "Учителева", "1980-01-02");
  const p1 = await person("PERSON_KIND_STUDENT", "Петров", "2015-03-01");
  const p2 = await person("PERSON_KIND_STUDENT", "Сидоров", "2015-04-01");
  const guardian = await person("PERSON_KIND_GUARDIAN", "Петрова", "1985-05-05");
  const head = await person("PERSON_KIND_STAFF", "Директорова", "1975-06-07");
  const year = { startYear: 2026 };
  const classGroup = async (at: string) =>
    (
      (await run(admin, "openClassGroup", {
        schoolId: at,
        academicYear: year,
        gradeLevel: 5,
        letter: "А",
      })) as {
        classGroupId: string;
      }
    ).classGroupId;
  const classGroupId = await classGroup(schoolId);
  const otherClassGroupId = await classGroup(otherSchoolId);
  // Сидоров first: the journal lists pupils alphabetically, not in enrolment order.
  for (const p of [p2, p1])
    await run(admin, "enrollStudent", { personId: p, classGroupId, effectiveDate: "2026-09-01" });
  await run(admin, "linkGuardian", { guardianId: guardian, studentId: p1 });

  // Accounts and roles, then the teacher and the guardian sign in; a refresh, too.
  const account = async (username: string, personId: string, grant: object) => {
    const { accountId } = (await run(admin, "createAccount", {
      username,
      password: `${username}-password-123`,
      personId,
    })) as { accountId: string };
    // An empty response answers { ok: true } (typed from the proto: GrantRolePayload).
    expect(await run(admin, "grantRole", { accountId, grant })).toEqual({ ok: true });
  };
  await account("teacher", teacher, { role: "TEACHER", scopeKind: "school", scopeId: schoolId });
  await account("guardian", guardian, { role: "GUARDIAN" });
  const teacherLogin = await login("teacher", "teacher-password-123");
  const refreshed = await gql(
    undefined,
    `mutation R($t: String!) { refreshToken(commandId: "${randomUUID()}", input: { refreshToken: $t }) { tokens { accessToken refreshToken } } }`,
    { t: teacherLogin.refreshToken },
  );
  const teacherTokens = (
    refreshed.data as { refreshToken: { tokens: { accessToken: string; refreshToken: string } } }
  ).refreshToken.tokens;
  const teacherToken = teacherTokens.accessToken;
  const guardianToken = (await login("guardian", "guardian-password-123")).accessToken;
  // The school's head approves work programmes (a school admin's act, not a platform one).
  await account("head", head, { role: "SCHOOL_ADMIN", scopeKind: "school", scopeId: schoolId });
  const headToken = (await login("head", "head-password-123")).accessToken;

  // Curriculum: calendar, quarters, two subjects, the teacher's maths assignment and slot, lessons.
  await run(admin, "defineAcademicYear", {
    schoolId,
    municipalityId,
    academicYear: year,
    daysPerWeek: 5,
  });
  await run(admin, "defineTermSystem", {
    schoolId,
    academicYear: year,
    gradeLevels: [5],
    kind: "TERM_KIND_QUARTER",
    terms: [
      { number: 1, firstDay: "2026-09-01", lastDay: "2026-11-04" },
      { number: 2, firstDay: "2026-11-05", lastDay: "2027-01-11" },
      { number: 3, firstDay: "2027-01-12", lastDay: "2027-03-31" },
      { number: 4, firstDay: "2027-04-01", lastDay: "2027-05-31" },
    ],
  });
  // Grade 5 keeps a five-day week whatever the school's (curriculum's per-grade week length).
  expect(
    await run(admin, "setGradeWeekLength", {
      schoolId,
      academicYear: year,
      gradeLevels: [5],
      daysPerWeek: 5,
    }),
  ).toEqual({ replayed: false });
  const subject = async (code: string, name: string) =>
    (
      (await run(admin, "addSubject", { code, name, grading: "GRADING_FIVE_POINT" })) as {
        subjectId: string;
      }
    ).subjectId;
  const subjectId = await subject("MATH", "Математика");
  const otherSubjectId = await subject("RUS", "Русский язык");
  const at = { schoolId, academicYear: year, classGroupId, subjectId, teacherId: teacher };
  await run(admin, "assignTeacher", at);
  await run(admin, "addTimetableSlot", { ...at, weekday: 1, period: 1, room: "1" });
  await run(admin, "generateLessons", {
    schoolId,
    academicYear: year,
    fromDate: "2026-09-07",
    toDate: "2026-09-13",
  });
  // Grade 5's maths programme: two planned hours (items v1.1 and v1.2).
  const programme = { schoolId, academicYear: year, subjectId, gradeLevel: 5 };
  await run(admin, "draftWorkProgramme", {
    ...programme,
    authorId: teacher,
    items: [
      { topic: "Дроби", hours: 1 },
      { topic: "Десятичные дроби", hours: 1 },
    ],
  });
  await run(headToken, "approveWorkProgramme", { ...programme, version: 1 });

  // The teacher finds the scheduled lesson in the journal.
  const journalQuery = `query TeacherJournal { journal(classGroupId: "${classGroupId}", subjectId: "${subjectId}", termId: "2026:1") {
    lessons { id status topic } rows { pupil { id name } marks { id value } absences { lessonId reason } } } }`;
  type JournalView = {
    lessons: { id: string; status: string; topic: string }[];
    rows: {
      pupil: { id: string; name: string };
      marks: { id: string; value: string }[];
      absences: { reason: string }[];
    }[];
  };
  const readJournal = async () => {
    const a = await gql(teacherToken, journalQuery);
    if (!a.data?.journal) throw new Error(JSON.stringify(a));
    return a.data.journal as JournalView;
  };
  const lessonId = await eventually(async () => {
    const j = await readJournal();
    const l = j.lessons.find((x) => x.status === "SCHEDULED");
    if (!l) throw new Error(`no lesson yet: ${JSON.stringify(j)}`);
    return l.id;
  });

  // The class group's pupils, alphabetically too (Сидоров was enrolled first).
  const pupils = await gql(
    teacherToken,
    `{ classGroup(id: "${classGroupId}") { pupils { name } } }`,
  );
  expect(pupils.data?.classGroup).toEqual({
    pupils: [{ name: "Петров Иван" }, { name: "Сидоров Иван" }],
  });

  // Open subscriptions before anything changes: the journal and the school dashboard for the
  // teacher, the diary for the guardian. One the guardian may not open is refused.
  const subs = await Promise.all([
    openSubscription(
      url,
      teacherToken,
      "journal",
      `subscription { journalChanged(classGroupId: "${classGroupId}", subjectId: "${subjectId}") { kind id } }`,
    ),
    openSubscription(
      url,
      teacherToken,
      "dashboard",
      `subscription { dashboardChanged(scope: { schoolId: "${schoolId}" }) { kind id } }`,
    ),
    openSubscription(
      url,
      guardianToken,
      "diary",
      `subscription { diaryChanged(studentId: "${p1}") { kind id } }`,
    ),
  ]);
  const [journalSub, dashboardSub, diarySub] = subs as [Subscription, Subscription, Subscription];
  const refusedSub = await openSubscription(
    url,
    guardianToken,
    "refused",
    `subscription { diaryChanged(studentId: "${p2}") { kind id } }`,
  );
  await eventually(async () => {
    if (!refusedSub.events.some((e) => JSON.stringify(e).includes("FORBIDDEN")))
      throw new Error("not yet");
  }, 10_000);
  refusedSub.close();

  try {
    // The lesson is conducted (topic, homework), then the teacher marks both pupils.
    await run(admin, "conductLesson", {
      schoolId,
      academicYear: year,
      classGroupId,
      lessonId,
      topic: "Дроби",
      workProgrammeItemId: "v1.1",
      homework: "№ 1",
    });
    const journal = { classGroupId, subjectId, academicYear: year };
    const recorded = (await run(teacherToken, "recordMarks", {
      journal,
      lessonId,
      marks: [
        { studentId: p1, value: "MARK_VALUE_FIVE", workType: "ORAL" },
        { studentId: p2, value: "MARK_VALUE_FOUR", workType: "ORAL" },
      ],
    })) as { markIds: string[] };
    expect(recorded.markIds).toHaveLength(2);
    const marksOf = (j: JournalView) =>
      j.rows.map((r) => [r.pupil.name, r.marks.map((m) => m.value)]);
    const afterMarks = await eventually(async () => {
      const j = await readJournal();
      if (j.rows.flatMap((r) => r.marks).length < 2) throw new Error(JSON.stringify(j));
      return j;
    });
    expect(marksOf(afterMarks)).toEqual([
      ["Петров Иван", ["FIVE"]],
      ["Сидоров Иван", ["FOUR"]],
    ]);
    expect(afterMarks.lessons.find((l) => l.id === lessonId)).toMatchObject({
      status: "CONDUCTED",
      topic: "Дроби",
    });
    await Promise.all([more(journalSub, 0), more(dashboardSub, 0), more(diarySub, 0)]);

    // The school dashboard as the teacher: two pupils, 5 and 4.
    const dashboard = async () => {
      const a = await gql(
        teacherToken,
        `{ dashboard(scope: { schoolId: "${schoolId}" }, period: { term: 1, academicYear: 2026, basis: CURRENT }, subjectId: "${subjectId}") {
          pupilCount { value } averageMark { numerator denominator } attendanceRate { numerator denominator } } }`,
      );
      if (!a.data?.dashboard) throw new Error(JSON.stringify(a));
      return a.data.dashboard as {
        averageMark: { numerator: number; denominator: number };
        attendanceRate: { numerator: number | null; denominator: number | null } | null;
      };
    };
    expect((await dashboard()).averageMark).toEqual({ numerator: 9, denominator: 2 });
    // Programme delivery (per class group and subject): the one lesson scheduled so far was
    // conducted on the programme's first item.
    const classDashboard = await gql(
      teacherToken,
      `{ dashboard(scope: { classGroupId: "${classGroupId}" }, period: { term: 1, academicYear: 2026, basis: CURRENT }, subjectId: "${subjectId}") {
        programmeDelivery { numerator denominator definition } } }`,
    );
    expect(classDashboard.data?.dashboard).toEqual({
      programmeDelivery: { numerator: 1, denominator: 1, definition: "programme_delivery.v1" },
    });

    // The guardian's diary shows the five, under the subject's name (curriculum lets a
    // pupil's guardian list the school's subjects).
    const diary = async () => {
      const a = await gql(
        guardianToken,
        `{ diary(studentId: "${p1}", from: "2026-09-01", to: "2026-09-30") { marks { value subject { name } } lessons { topic } } }`,
      );
      if (!a.data?.diary) throw new Error(JSON.stringify(a));
      return a.data.diary as {
        marks: { value: string; subject: { name: string } }[];
        lessons: { topic: string }[];
      };
    };
    expect((await diary()).marks).toEqual([{ value: "FIVE", subject: { name: "Математика" } }]);

    // Bad input on commands: a typed error each, and nothing changes.
    const counts = [journalSub.events.length, dashboardSub.events.length, diarySub.events.length];
    const mark = (over: object) => ({
      journal,
      lessonId,
      mark: { studentId: p2, value: "MARK_VALUE_THREE", workType: "ORAL" },
      ...over,
    });
    const refused = async (token: string | undefined, field: string, input: object) => {
      const a = await gql(token, commandOperation(field), { c: randomUUID(), i: input });
      return codeOf(a);
    };
    // Off the scale: no value, and a number past the enum (refused by the schema's enum).
    for (const value of ["MARK_VALUE_UNSPECIFIED", 9]) {
      const code = await refused(
        teacherToken,
        "recordMark",
        mark({ mark: { studentId: p2, value, workType: "ORAL" } }),
      );
      expect(code).toBe("BAD_USER_INPUT");
    }
    // grades' refusal (INVALID_ARGUMENT naming the field) is located at the mutation's field.
    const lowerCase = await gql(
      teacherToken,
      `mutation M($i: RecordMarkInput!) {\n  recordMark(commandId: "${randomUUID()}", input: $i) { markId }\n}`,
      { i: mark({ mark: { studentId: p2, value: "MARK_VALUE_THREE", workType: "oral" } }) },
    );
    expect(lowerCase.errors).toEqual([
      {
        message: expect.stringMatching(/^mark\.work_type: /),
        locations: [{ line: 2, column: 3 }],
        path: ["recordMark"],
        extensions: { code: "BAD_USER_INPUT", field: "mark.work_type" },
      },
    ]);
    expect(
      await refused(
        teacherToken,
        "recordMark",
        mark({ mark: { studentId: p2, value: "MARK_VALUE_SIX" } }),
      ),
    ).toBe("BAD_USER_INPUT");
    expect(await refused(teacherToken, "recordMark", mark({ grade: 5 }))).toBe("BAD_USER_INPUT");
    // grades cannot tell an unknown lesson from one not replicated yet: UNAVAILABLE (retry).
    expect(await refused(teacherToken, "recordMark", mark({ lessonId: randomUUID() }))).toBe(
      "UNAVAILABLE",
    );
    expect(
      await refused(
        teacherToken,
        "recordMark",
        mark({ journal: { ...journal, classGroupId: randomUUID() } }),
      ),
    ).toBe("NOT_FOUND");
    // Another school's class group: refused by the gateway before any grades call.
    expect(
      await refused(
        teacherToken,
        "recordMark",
        mark({ journal: { ...journal, classGroupId: otherClassGroupId } }),
      ),
    ).toBe("FORBIDDEN");
    // Same school, another subject: the gateway passes it, grades refuses (the lesson is maths).
    expect(
      await refused(
        teacherToken,
        "recordMark",
        mark({ journal: { ...journal, subjectId: otherSubjectId } }),
      ),
    ).toBe("FAILED_PRECONDITION");
    expect(await refused(guardianToken, "recordMark", mark({}))).toBe("FORBIDDEN");
    expect(await refused(undefined, "recordMark", mark({}))).toBe("UNAUTHENTICATED");
    expect(
      await refused(teacherToken, "correctMark", {
        journal,
        markId: randomUUID(),
        value: "MARK_VALUE_TWO",
        reason: "x",
      }),
    ).toMatch(/NOT_FOUND|FAILED_PRECONDITION/);
    expect(await refused(teacherToken, "registerMunicipality", { name: "Чужой" })).toBe(
      "FORBIDDEN",
    );
    // Administrative inputs are typed from the protos: a value off an enum, a wrong type, a
    // missing required field are refused by GraphQL (mutations.int.test.ts: no service call).
    for (const input of [
      { kind: "PERSON_KIND_ALIEN", schoolId, personalData: personal("Чужой", "2015-01-01") },
      { kind: "PERSON_KIND_STUDENT", schoolId, personalData: { familyName: 5 } },
    ])
      expect(await refused(admin, "registerPerson", input)).toBe("BAD_USER_INPUT");
    expect(await refused(admin, "disableAccount", { accountId: randomUUID() })).toBe(
      "BAD_USER_INPUT",
    );
    expect(marksOf(await readJournal())).toEqual(marksOf(afterMarks));

    // A correction: the journal, the diary and the dashboard change, each subscription hears it.
    await run(teacherToken, "correctMark", {
      journal,
      markId: await markIdOf(p1),
      value: "MARK_VALUE_FOUR",
      reason: "описка",
    });
    await eventually(async () => {
      expect(marksOf(await readJournal())).toEqual([
        ["Петров Иван", ["FOUR"]],
        ["Сидоров Иван", ["FOUR"]],
      ]);
    });
    // The gateway's dashboard cache is emptied by reporting's notice, which follows the commit.
    await eventually(async () =>
      expect((await dashboard()).averageMark).toEqual({ numerator: 8, denominator: 2 }),
    );
    expect((await diary()).marks.map((m) => m.value)).toEqual(["FOUR"]);
    await Promise.all([
      more(journalSub, counts[0] as number),
      more(dashboardSub, counts[1] as number),
      more(diarySub, counts[2] as number),
    ]);

    // Attendance: Петров ill. The journal shows it; its subscriptions hear it.
    const before = [journalSub.events.length, dashboardSub.events.length, diarySub.events.length];
    await run(teacherToken, "recordAttendance", {
      journal,
      lessonId,
      absences: [{ studentId: p1, reason: "ABSENCE_REASON_ILLNESS" }],
    });
    await eventually(async () => {
      const j = await readJournal();
      const row = j.rows.find((r) => r.pupil.id === p1);
      if (row?.absences[0]?.reason !== "ILLNESS") throw new Error(JSON.stringify(j));
    });
    // The absence changes Петров's diary too: all three subscriptions hear it.
    await Promise.all([
      more(journalSub, before[0] as number),
      more(dashboardSub, before[1] as number),
      more(diarySub, before[2] as number),
    ]);
    for (const s of [journalSub, dashboardSub, diarySub])
      expect(s.events.every((e) => JSON.stringify(e).includes('"kind"'))).toBe(true);

    // Logout spends the session: the refresh token no longer works.
    await run(teacherToken, "logout", { refreshToken: teacherTokens.refreshToken });
    const again = await gql(
      undefined,
      `mutation R($t: String!) { refreshToken(commandId: "${randomUUID()}", input: { refreshToken: $t }) { tokens { accessToken refreshToken } } }`,
      { t: teacherTokens.refreshToken },
    );
    expect(codeOf(again)).toBe("UNAUTHENTICATED");
  } finally {
    for (const s of subs) s.close();
  }

  async function markIdOf(pupil: string): Promise<string> {
    const j = await readJournal();
    const id = j.rows.find((r) => r.pupil.id === pupil)?.marks[0]?.id;
    if (!id) throw new Error(`no mark of ${pupil}`);
    return id;
  }
}, 400_000);
