import { dropDatabase, TEST_DB_PREFIX, uniqueSuffix, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, graphql, type Platform, SERVICES, startPlatform } from "./platform.js";

/*
 * Issue 14's school day: the whole platform started by scripts/start.mjs (as `npm start` does,
 * with a small seeded region: one school, one class of 6 pupils, the week in which term 1
 * ends) on real PostgreSQL and NATS, and everything after that through GraphQL only: every
 * printed login runs its printed query; a teacher conducts a lesson of the next week and
 * records attendance and marks; the parent's diaryChanged subscription and diary see it; the
 * municipal officer's dashboard changes; the closed term refuses the teacher's correction and
 * takes the admin's; an erased pupil's personal data is gone and their login with it.
 */
const env = useTestEnvironment({ label: "school_day" });
const dbPrefix = `${TEST_DB_PREFIX}${uniqueSuffix()}`;
let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({
    env: env.env,
    dbPrefix,
    seedArgs: "--municipalities 1 --schools 1 --classes 1 --pupils-per-class 6 --weeks 1 --seed 1",
    timeoutMs: 420_000,
  });
}, 480_000);

afterAll(async () => {
  await platform?.stop();
  for (const s of SERVICES)
    await dropDatabase(env.adminDatabaseUrl, `${dbPrefix}_${s}`).catch(() => {});
}, 60_000);

const idIn = (query: string, name: string) => {
  const m = new RegExp(`${name}: "([^"]+)"`).exec(query);
  if (!m) throw new Error(`${name} not in ${query}`);
  return m[1] as string;
};

it("every printed login logs in through GraphQL and its printed query answers without errors", async () => {
  const { login, read } = graphql(platform.graphqlUrl);
  const roles = platform.logins.map((l) => l.role).sort();
  expect(roles).toEqual(
    [
      "GUARDIAN",
      "MINISTRY_OFFICER",
      "MUNICIPAL_OFFICER",
      "PLATFORM_ADMIN",
      "SCHOOL_ADMIN",
      "STUDENT",
      "TEACHER",
    ].sort(),
  );
  for (const l of platform.logins) {
    const token = await login(l.username, l.password);
    // Reporting's projections may still be catching up with the seed: a null is retried.
    await eventually(async () => {
      const d = await read(token, l.query);
      const [value] = Object.values(d);
      if (!value) throw new Error(`${l.role}: ${l.query} answered ${JSON.stringify(d)}`);
    });
    if (l.role === "MUNICIPAL_OFFICER") {
      // Their municipality's dashboard: the seeded week's attendance, its one school below.
      await eventually(async () => {
        const d = (await read(token, l.query)).dashboard as {
          attendanceRate: { value: number | null } | null;
          children: unknown[];
        };
        expect(d.attendanceRate?.value).toBeGreaterThan(0.5);
        expect(d.children).toHaveLength(1);
      });
    }
  }
}, 600_000);

it("a school day: marks and attendance reach the parent live and the officer's dashboard; a closed term takes only the admin's correction; an erasure", async () => {
  const { gql, read, command, run, login } = graphql(platform.graphqlUrl);
  const by = Object.fromEntries(platform.logins.map((l) => [l.role, l]));
  const tokenOf = (role: string) => login(by[role]?.username ?? "", by[role]?.password ?? "");
  const [teacher, parent, officer, schoolAdmin, admin] = await Promise.all(
    ["TEACHER", "GUARDIAN", "MUNICIPAL_OFFICER", "SCHOOL_ADMIN", "PLATFORM_ADMIN"].map(tokenOf),
  );
  const classGroupId = idIn(by.TEACHER?.query ?? "", "classGroupId");
  const subjectId = idIn(by.TEACHER?.query ?? "", "subjectId");
  const schoolId = idIn(by.SCHOOL_ADMIN?.query ?? "", "schoolId");
  const municipalityId = idIn(by.MUNICIPAL_OFFICER?.query ?? "", "municipalityId");
  const child = idIn(by.GUARDIAN?.query ?? "", "studentId");
  const academicYear = { startYear: 2026 };
  const journal = { classGroupId, subjectId, academicYear };

  // The next Monday's lessons (term 2) are scheduled by the school admin.
  await run(schoolAdmin as string, "generateLessons", {
    schoolId,
    academicYear,
    fromDate: "2026-11-09",
    toDate: "2026-11-13",
  });
  const lesson = await eventually(async () => {
    const d = await read(
      teacher as string,
      `{ journal(classGroupId: "${classGroupId}", subjectId: "${subjectId}", termId: "2026:2") { lessons { id date status } rows { pupil { id } } } }`,
    );
    const j = d.journal as {
      lessons: { id: string; date: string }[];
      rows: { pupil: { id: string } }[];
    };
    const l = j.lessons.find((x) => x.date === "2026-11-09");
    if (!l) throw new Error("the lesson of 9 November is not in the journal yet");
    return { id: l.id, pupils: j.rows.map((r) => r.pupil.id) };
  });
  const other = lesson.pupils.find((p) => p !== child) as string;

  // The officer's dashboard of the new week: nothing recorded in it yet.
  const dashboard = `{ dashboard(scope: { municipalityId: "${municipalityId}" }, period: { academicYear: 2026, from: "2026-11-09", to: "2026-11-13" }) { attendanceRate { numerator denominator } } }`;
  const attendance = async () =>
    (
      (await read(officer as string, dashboard)).dashboard as {
        attendanceRate: { numerator: number; denominator: number } | null;
      }
    ).attendanceRate;
  expect((await attendance())?.denominator ?? 0).toBe(0);

  // The parent watches the child's diary.
  const { openSubscription } = await import(
    new URL("../../services/gateway/dist/e2e/sse.js", import.meta.url).href
  );
  const sub = await openSubscription(
    platform.graphqlUrl,
    parent,
    "diary",
    `subscription { diaryChanged(studentId: "${child}") { kind id } }`,
  );
  try {
    // The teacher's lesson: conducted, attendance (one pupil ill), a mark for the child.
    await run(teacher as string, "conductLesson", {
      schoolId,
      academicYear,
      classGroupId,
      lessonId: lesson.id,
      topic: "Десятичные дроби",
      homework: "§ 12, № 301",
    });
    await run(teacher as string, "recordAttendance", {
      journal,
      lessonId: lesson.id,
      absences: [{ studentId: other, reason: "ABSENCE_REASON_ILLNESS", lateMinutes: 0 }],
    });
    await run(teacher as string, "recordMarks", {
      journal,
      lessonId: lesson.id,
      marks: [{ studentId: child, value: "MARK_VALUE_FIVE", workType: "TEST" }],
    });

    await eventually(async () => {
      if (sub.events.length === 0) throw new Error("no diaryChanged notice yet");
    });
    const diary = `{ diary(studentId: "${child}", from: "2026-11-09", to: "2026-11-09") { lessons { id topic homework } marks { lessonId value } } }`;
    await eventually(async () => {
      const d = (await read(parent as string, diary)).diary as {
        lessons: { id: string; topic: string }[];
        marks: { lessonId: string; value: string }[];
      };
      expect(d.lessons.find((l) => l.id === lesson.id)?.topic).toBe("Десятичные дроби");
      expect(d.marks).toContainEqual({ lessonId: lesson.id, value: "FIVE" });
    });
  } finally {
    sub.close();
  }
  // The officer's dashboard follows: 6 pupils' places in the lesson, one of them missed.
  await eventually(async () =>
    expect(await attendance()).toEqual({ numerator: 5, denominator: 6 }),
  );

  // Term 1 was closed by the seed: the teacher may not correct its marks, the admin may.
  const term1 = (await read(
    schoolAdmin as string,
    `{ journal(classGroupId: "${classGroupId}", subjectId: "${subjectId}", termId: "2026:1") { rows { pupil { id } marks { id value } } } }`,
  )) as { journal: { rows: { pupil: { id: string }; marks: { id: string; value: string }[] }[] } };
  const mark = term1.journal.rows.flatMap((r) => r.marks)[0];
  if (!mark) throw new Error("the seed left no term-1 mark in the journal");
  const value = mark.value === "FIVE" ? "MARK_VALUE_FOUR" : "MARK_VALUE_FIVE";
  const correction = { journal, markId: mark.id, value, reason: "Ошибка при переносе из тетради" };
  const refused = await command(teacher, "correctMark", correction);
  expect(refused.code).toBe("FAILED_PRECONDITION");
  await run(schoolAdmin as string, "correctMark", correction);
  await eventually(async () => {
    const d = (await read(
      schoolAdmin as string,
      `{ journal(classGroupId: "${classGroupId}", subjectId: "${subjectId}", termId: "2026:1") { rows { marks { id value } } } }`,
    )) as { journal: { rows: { marks: { id: string; value: string }[] }[] } };
    const now = d.journal.rows.flatMap((r) => r.marks).find((m) => m.id === mark.id);
    expect(now?.value).toBe(value.replace("MARK_VALUE_", ""));
  });

  // Erasure (152-ФЗ): the pupil's personal data is gone, the record stays, their login too.
  await run(admin as string, "erasePerson", { personId: child });
  await eventually(async () => {
    const d = (await read(
      schoolAdmin as string,
      `{ person(id: "${child}") { erased familyName birthDate } }`,
    )) as { person: { erased: boolean; familyName: string | null; birthDate: string | null } };
    expect(d.person).toEqual({ erased: true, familyName: null, birthDate: null });
  });
  const pupilLogin = await command(undefined, "login", {
    username: by.STUDENT?.username,
    password: by.STUDENT?.password,
  });
  expect(pupilLogin.answer).toBeUndefined();
  expect(pupilLogin.code).toBe("UNAUTHENTICATED");
  expect((await gql(undefined, "{ me { accountId } }")).errors?.[0]?.extensions?.code).toBe(
    "UNAUTHENTICATED",
  );
}, 900_000);

it("logging out ends that session's access token at the gateway; the account's other session goes on", async () => {
  const { gql, read, command } = graphql(platform.graphqlUrl);
  const teacher = platform.logins.find((l) => l.role === "TEACHER");
  if (!teacher) throw new Error("no TEACHER login printed");
  const session = async () => {
    const r = await command(undefined, "login", {
      username: teacher.username,
      password: teacher.password,
    });
    const tokens = (r.answer as { tokens?: { accessToken: string; refreshToken: string } })?.tokens;
    if (!tokens) throw new Error(`login: ${JSON.stringify(r.errors)}`);
    return tokens;
  };
  // The shared computer in the staff room, and the teacher's own phone.
  const [staffRoom, phone] = [await session(), await session()];
  const me = "{ me { accountId } }";
  await read(staffRoom.accessToken, me);

  const out = await command(undefined, "logout", { refreshToken: staffRoom.refreshToken });
  expect(out.errors).toBeUndefined();
  // Identity writes the entry before it answers; the gateway's watch applies it at once.
  await eventually(async () => {
    const a = await gql(staffRoom.accessToken, me);
    expect(a.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  }, 30_000);
  expect((await read(phone.accessToken, me)).me).toBeTruthy();
  // The logged-out session cannot be refreshed into a new token either.
  const refreshed = await command(undefined, "refreshToken", {
    refreshToken: staffRoom.refreshToken,
  });
  expect(refreshed.code).toBe("UNAUTHENTICATED");
}, 120_000);
