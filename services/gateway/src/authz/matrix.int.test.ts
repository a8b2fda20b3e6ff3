import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NoticeHub } from "../subscriptions/notices.js";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";

/*
 * The authorization matrix of issue 12: every role x an in-scope and an out-of-scope target x
 * every root field and the nested paths that reach personal data. Exactly the cells listed in
 * ALLOWED succeed; every other one is refused with FORBIDDEN, and no answer to a municipal,
 * ministry, platform or portal caller contains a pupil's name.
 */

const ROLES = {
  teacherMath: { roles: [`TEACHER@school:${F.s1}`], pid: F.t1 }, // homeroom of C1, teaches math there
  teacherRus: { roles: [`TEACHER@school:${F.s1}`], pid: F.t3 }, // teaches rus in C1 only
  schoolAdmin: { roles: [`SCHOOL_ADMIN@school:${F.s1}`], pid: "admin-person" },
  municipal: { roles: [`MUNICIPAL_OFFICER@municipality:${F.m1}`], pid: "muni-person" },
  ministry: { roles: [`MINISTRY_OFFICER@region:${F.region}`], pid: "ministry-person" },
  guardian: { roles: ["GUARDIAN"], pid: F.g1 },
  student: { roles: ["STUDENT"], pid: F.p1 },
  platformAdmin: { roles: ["PLATFORM_ADMIN"] },
  portal: { roles: ["PORTAL_SUBSCRIBER"] },
} as const;
type RoleName = keyof typeof ROLES;

const term = `"${F.year}:1"`;
const dash = (scope: string) =>
  `{ dashboard(scope: { ${scope} }, period: { term: 1, academicYear: ${F.year} }) { passRate { value } } }`;
const dashYear = (scope: string) =>
  `{ dashboard(scope: { ${scope} }, period: { year: true, academicYear: ${F.year} }) { passRate { value } } }`;

/** Each case: the query, and the roles it succeeds for. */
const CASES: Record<string, { query: string; allowed: RoleName[] }> = {
  me: { query: "{ me { accountId roles } }", allowed: Object.keys(ROLES) as RoleName[] },
  region: {
    query: "{ region { name municipalities { name } } }",
    allowed: ["ministry", "platformAdmin"],
  },
  "municipality in": {
    query: `{ municipality(id: "${F.m1}") { name schools { name } } }`,
    allowed: ["municipal", "ministry", "platformAdmin"],
  },
  "municipality out": {
    query: `{ municipality(id: "${F.m2}") { name } }`,
    allowed: ["ministry", "platformAdmin"],
  },
  "school in": {
    query: `{ school(id: "${F.s1}") { name classGroups { name } } }`,
    allowed: ["teacherMath", "teacherRus", "schoolAdmin", "municipal", "ministry", "platformAdmin"],
  },
  "school out": {
    query: `{ school(id: "${F.s2}") { name } }`,
    allowed: ["ministry", "platformAdmin"],
  },
  "school.municipality": {
    query: `{ school(id: "${F.s1}") { municipality { name } } }`,
    allowed: ["municipal", "ministry", "platformAdmin"],
  },
  "classGroup in": {
    query: `{ classGroup(id: "${F.c1}") { name school { name } } }`,
    allowed: ["teacherMath", "teacherRus", "schoolAdmin", "municipal", "ministry", "platformAdmin"],
  },
  "classGroup out": {
    query: `{ classGroup(id: "${F.c2}") { name } }`,
    allowed: ["ministry", "platformAdmin"],
  },
  "person in": {
    query: `{ person(id: "${F.p1}") { name birthDate } }`,
    allowed: ["schoolAdmin", "guardian", "student"],
  },
  "person out": { query: `{ person(id: "${F.q1}") { name } }`, allowed: [] },
  // Judged on the schools holding the pupil now (identity's current_school_ids), not on the
  // school that registered them: N1 came to S1 from S2, L1 left S1 for S2.
  "person who came": {
    query: `{ person(id: "${F.n1}") { name birthDate namesOnly } }`,
    allowed: ["schoolAdmin"],
  },
  "person who left (the name only, from identity)": {
    query: `{ person(id: "${F.l1}") { name namesOnly } }`,
    allowed: ["schoolAdmin"],
  },
  "journal in": {
    query: `{ journal(classGroupId: "${F.c1}", subjectId: "math", termId: ${term}) { term rows { marks { value } } } }`,
    allowed: ["teacherMath", "schoolAdmin"],
  },
  "journal in (rus)": {
    query: `{ journal(classGroupId: "${F.c1}", subjectId: "rus", termId: ${term}) { term } }`,
    allowed: ["teacherMath", "teacherRus", "schoolAdmin"],
  },
  "journal out": {
    query: `{ journal(classGroupId: "${F.c2}", subjectId: "math", termId: ${term}) { term } }`,
    allowed: [],
  },
  "journal pupil names": {
    query: `{ journal(classGroupId: "${F.c1}", subjectId: "math", termId: ${term}) { rows { pupil { name } } } }`,
    allowed: ["teacherMath", "schoolAdmin"],
  },
  // Exemptions (осв.) are the pupils' record like marks: exactly the journal's and diary's readers.
  "journal exemptions": {
    query: `{ journal(classGroupId: "${F.c1}", subjectId: "math", termId: ${term}) { exemptions { pupil { id } subject { name } firstDay lastDay } } }`,
    allowed: ["teacherMath", "schoolAdmin"],
  },
  "journal exemptions pupil names": {
    query: `{ journal(classGroupId: "${F.c1}", subjectId: "math", termId: ${term}) { exemptions { pupil { name } } } }`,
    allowed: ["teacherMath", "schoolAdmin"],
  },
  "journal exemptions out": {
    query: `{ journal(classGroupId: "${F.c2}", subjectId: "math", termId: ${term}) { exemptions { firstDay } } }`,
    allowed: [],
  },
  "diary in": {
    query: `{ diary(studentId: "${F.p1}", from: "2026-09-01", to: "2026-09-30") { student { name } marks { value } } }`,
    allowed: ["schoolAdmin", "guardian", "student"],
  },
  "diary exemptions": {
    query: `{ diary(studentId: "${F.p1}", from: "2026-09-01", to: "2026-09-30") { exemptions { pupil { name } subject { name } firstDay lastDay } } }`,
    allowed: ["schoolAdmin", "guardian", "student"],
  },
  "diary exemptions out": {
    query: `{ diary(studentId: "${F.q1}", from: "2026-09-01", to: "2026-09-30") { exemptions { firstDay } } }`,
    allowed: [],
  },
  "diary of a pupil who came": {
    query: `{ diary(studentId: "${F.n1}", from: "2026-09-01", to: "2026-09-30") { marks { value } } }`,
    allowed: ["schoolAdmin"],
  },
  "diary of a pupil who left": {
    query: `{ diary(studentId: "${F.l1}", from: "2026-09-01", to: "2026-09-30") { marks { value } } }`,
    allowed: [],
  },
  "diary out": {
    query: `{ diary(studentId: "${F.q1}", from: "2026-09-01", to: "2026-09-30") { marks { value } } }`,
    allowed: [],
  },
  "workProgramme in": {
    query: `{ workProgramme(id: "${F.s1}:${F.year}:math:5") { version items { topic } } }`,
    allowed: ["teacherMath", "teacherRus", "schoolAdmin", "municipal", "ministry"],
  },
  "workProgramme out": {
    query: `{ workProgramme(id: "${F.s2}:${F.year}:math:5") { version } }`,
    allowed: ["ministry"],
  },
  "dashboard region": { query: dashYear(`regionId: "${F.region}"`), allowed: ["ministry"] },
  "dashboard municipality in": {
    query: dashYear(`municipalityId: "${F.m1}"`),
    allowed: ["municipal", "ministry"],
  },
  "dashboard municipality out": {
    query: dashYear(`municipalityId: "${F.m2}"`),
    allowed: ["ministry"],
  },
  "dashboard school in": {
    query: dash(`schoolId: "${F.s1}"`),
    allowed: ["teacherMath", "teacherRus", "schoolAdmin", "municipal", "ministry"],
  },
  "dashboard school out": { query: dash(`schoolId: "${F.s2}"`), allowed: ["ministry"] },
  "dashboard classGroup in": {
    query: dash(`classGroupId: "${F.c1}"`),
    allowed: ["teacherMath", "teacherRus", "schoolAdmin", "municipal", "ministry"],
  },
  "dashboard classGroup untaught": {
    query: dash(`classGroupId: "${F.c3}"`),
    allowed: ["schoolAdmin", "municipal", "ministry"],
  },
  "dashboard classGroup out": { query: dash(`classGroupId: "${F.c2}"`), allowed: ["ministry"] },
  // Nested paths that reach personal data.
  "classGroup.pupils.name": {
    query: `{ classGroup(id: "${F.c1}") { pupils { name } } }`,
    allowed: ["teacherMath", "teacherRus", "schoolAdmin"],
  },
  "classGroup.pupils (untaught)": {
    query: `{ classGroup(id: "${F.c3}") { pupils { id } } }`,
    allowed: ["schoolAdmin"],
  },
  "school.classGroups.pupils.name": {
    query: `{ school(id: "${F.s1}") { classGroups { pupils { name } } } }`,
    allowed: ["schoolAdmin"],
  },
  "region...pupils.name": {
    query: "{ region { municipalities { schools { classGroups { pupils { name } } } } } }",
    allowed: [],
  },
  // Account administration: ids, roles and flags to the school's admins and those above;
  // usernames are the person's personal data (a pupil's: the school's admin only).
  "accounts in": {
    query: `{ accounts(schoolId: "${F.s1}") { accounts { id roles disabled createdAt } } }`,
    allowed: ["schoolAdmin", "municipal", "platformAdmin"],
  },
  "accounts out": {
    query: `{ accounts(schoolId: "${F.s2}") { accounts { id } } }`,
    allowed: ["platformAdmin"],
  },
  "accounts.username": {
    query: `{ accounts(schoolId: "${F.s1}") { accounts { username } } }`,
    allowed: ["schoolAdmin"],
  },
  "accounts.person.name": {
    query: `{ accounts(schoolId: "${F.s1}") { accounts { person { name } } } }`,
    allowed: ["schoolAdmin"],
  },
  "classGroup.homeroomTeacher.name": {
    query: `{ classGroup(id: "${F.c1}") { homeroomTeacher { name } } }`,
    allowed: ["teacherMath", "teacherRus", "schoolAdmin", "municipal", "ministry", "platformAdmin"],
  },
  // A staff member's name goes to whoever reads their school; the rest of their personal data
  // to themself (T1 is C1's homeroom teacher) and their school's admin only.
  "classGroup.homeroomTeacher.birthDate": {
    query: `{ classGroup(id: "${F.c1}") { homeroomTeacher { birthDate } } }`,
    allowed: ["teacherMath", "schoolAdmin"],
  },
  "person staff birthDate": {
    query: `{ person(id: "${F.t3}") { name birthDate } }`,
    allowed: ["teacherRus", "schoolAdmin"],
  },
};

/** Roles that must never see a pupil's name, whatever they ask. */
const NO_PUPIL_DATA: RoleName[] = [
  "municipal",
  "ministry",
  "platformAdmin",
  "portal",
  "teacherRus",
];

// Once without the dashboard caches and once with them (each cell asked twice, so the second
// answer of a cacheable dashboard comes from the cache: a hit must obey the matrix too).
describe.each([
  ["no caches", false],
  ["dashboard caches on", true],
])("authorization matrix (%s)", (_name, cached) => {
  let h: GatewayHarness;
  const tokens = {} as Record<RoleName, string>;
  beforeAll(async () => {
    h = await startGatewayHarness(
      cached ? { notices: new NoticeHub(), dashboardCacheMs: 60_000 } : {},
    );
    for (const [name, r] of Object.entries(ROLES)) {
      tokens[name as RoleName] = await h.token([...r.roles], "pid" in r ? r.pid : undefined);
    }
  });
  afterAll(() => h?.close());

  const cells = Object.entries(CASES).flatMap(([c, spec]) =>
    (Object.keys(ROLES) as RoleName[]).map(
      (role) => [c, role, spec.allowed.includes(role)] as const,
    ),
  );

  it.each(cells)("%s as %s: allowed=%s", async (c, role, allowed) => {
    const spec = CASES[c] as (typeof CASES)[string];
    for (const _round of cached ? [1, 2] : [1]) await check(c, role, allowed, spec.query);
  });

  async function check(c: string, role: RoleName, allowed: boolean, query: string) {
    const answer = await h.query(tokens[role], query);
    expect(answer.status).toBe(200);
    if (allowed) {
      expect(answer.body.errors).toBeUndefined();
      expect(Object.values(answer.body.data ?? {})[0]).not.toBeNull();
    } else {
      expect(answer.body.errors?.length).toBeGreaterThan(0);
      expect(answer.body.errors?.map((e) => e.extensions?.code)).toContain("FORBIDDEN");
      // No error is anything but the refusal (NOT_FOUND would tell existence, 500 a bug).
      for (const e of answer.body.errors ?? []) expect(e.extensions?.code).toBe("FORBIDDEN");
      // Nothing of a refused journal or diary reaches the caller (an exemption's dates included).
      expect(answer.text).not.toContain("firstDay");
    }
    // Municipal, ministry and other roles never see a pupil's name, by any path; a teacher of
    // another subject sees names of the class group's pupils only through classGroup.pupils.
    if (
      NO_PUPIL_DATA.includes(role) &&
      !(role === "teacherRus" && c === "classGroup.pupils.name")
    ) {
      expect(answer.text).not.toContain("Pupil-");
    }
  }

  it("me.person is the caller's own record, names included; none for accounts without a person", async () => {
    for (const role of ["teacherMath", "guardian", "student"] as const) {
      const answer = await h.query(tokens[role], "{ me { personId person { id name } } }");
      expect(answer.body.errors).toBeUndefined();
      const me = answer.body.data?.me as { personId: string; person: { id: string; name: string } };
      expect(me.person.id).toBe(ROLES[role].pid);
      expect(me.person.name).toMatch(/-/);
    }
    const platform = await h.query(tokens.platformAdmin, "{ me { personId person { name } } }");
    expect(platform.body).toEqual({ data: { me: { personId: null, person: null } } });
  });

  it("namesOnly tells a withheld birth date from a missing one", async () => {
    const ask = (id: string) =>
      h.query(tokens.schoolAdmin, `{ person(id: "${id}") { name birthDate namesOnly } }`);
    expect((await ask(F.l1)).body).toEqual({
      data: { person: { name: "Pupil-l1 Имя", birthDate: null, namesOnly: true } },
    });
    expect((await ask(F.p1)).body).toEqual({
      data: { person: { name: `Pupil-${F.p1} Имя`, birthDate: "2015-03-01", namesOnly: false } },
    });
  });
});
