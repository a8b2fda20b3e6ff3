import { PersonKind } from "@otmetka/proto/identity/v1/identity_service";

/**
 * A small region for the gateway's tests: two municipalities with a school each; school S1
 * has class group C1 (30 pupils, homeroom T1, T1 teaches math, T3 teaches rus) and C3 (no
 * teacher of ours); school S2 has C2 with pupil Q1. G1 is P1's guardian. E1 is an erased
 * pupil of S1 on no roster; L1 left S1 for S2, N1 came from S2 to S1 (on no roster).
 */
export const F = {
  region: "74",
  m1: "m1",
  m2: "m2",
  s1: "s1",
  s2: "s2",
  c1: "c1",
  c2: "c2",
  c3: "c3",
  t1: "t1",
  t2: "t2",
  t3: "t3",
  g1: "g1",
  p1: "p01",
  q1: "q1",
  e1: "e1",
  /** A pupil registered at S1 who moved to S2: S1 reads the name only. */
  l1: "l1",
  /** A pupil registered at S2 who is at S1 now. */
  n1: "n1",
  year: 2026,
} as const;

export const pupilsOfC1 = Array.from(
  { length: 30 },
  (_, i) => `p${String(i + 1).padStart(2, "0")}`,
);

/** More pupils of S1 than reporting takes in one call, on no roster (the batch-limit test). */
export const bulkPupilsOfS1 = Array.from(
  { length: 210 },
  (_, i) => `b${String(i + 1).padStart(3, "0")}`,
);

export interface FixturePerson {
  id: string;
  kind: PersonKind;
  schoolId: string;
  municipalityId: string;
  familyName: string;
  /** Erased: identity answers without personal data. */
  erased?: boolean;
  /** identity's current_school_ids when they are not the registering school. */
  currentSchools?: string[];
  /** identity answers the name only, marked (a school that held them before asks). */
  namesOnly?: boolean;
}

const person = (
  id: string,
  kind: PersonKind,
  schoolId: string,
  municipalityId: string,
  familyName: string,
): FixturePerson => ({
  id,
  kind,
  schoolId,
  municipalityId,
  familyName,
});

/** Pupils' family names all start with "Pupil": a response containing it leaked a pupil's name. */
export const PEOPLE: FixturePerson[] = [
  ...pupilsOfC1.map((id) => person(id, PersonKind.PERSON_KIND_STUDENT, F.s1, F.m1, `Pupil-${id}`)),
  ...bulkPupilsOfS1.map((id) =>
    person(id, PersonKind.PERSON_KIND_STUDENT, F.s1, F.m1, `Pupil-${id}`),
  ),
  person(F.q1, PersonKind.PERSON_KIND_STUDENT, F.s2, F.m2, "Pupil-q1"),
  { ...person(F.e1, PersonKind.PERSON_KIND_STUDENT, F.s1, F.m1, "Pupil-e1"), erased: true },
  {
    ...person(F.l1, PersonKind.PERSON_KIND_STUDENT, F.s1, F.m1, "Pupil-l1"),
    currentSchools: [F.s2],
    namesOnly: true,
  },
  {
    ...person(F.n1, PersonKind.PERSON_KIND_STUDENT, F.s2, F.m2, "Pupil-n1"),
    currentSchools: [F.s1],
  },
  person(F.t1, PersonKind.PERSON_KIND_STAFF, F.s1, F.m1, "Teacher-t1"),
  person(F.t2, PersonKind.PERSON_KIND_STAFF, F.s2, F.m2, "Teacher-t2"),
  person(F.t3, PersonKind.PERSON_KIND_STAFF, F.s1, F.m1, "Teacher-t3"),
  person(F.g1, PersonKind.PERSON_KIND_GUARDIAN, F.s1, F.m1, "Guardian-g1"),
];

export const CLASS_GROUPS = [
  { id: F.c1, schoolId: F.s1, municipalityId: F.m1, letter: "А", homeroom: F.t1 },
  { id: F.c3, schoolId: F.s1, municipalityId: F.m1, letter: "Б", homeroom: "" },
  { id: F.c2, schoolId: F.s2, municipalityId: F.m2, letter: "А", homeroom: F.t2 },
];

export const ROSTERS: Record<string, string[]> = { [F.c1]: pupilsOfC1, [F.c2]: [F.q1], [F.c3]: [] };

/** Subgroups: the first and second half of C1 in maths, and C2's in maths. */
export const SUBGROUPS: Record<
  string,
  { classGroupId: string; subjectId: string; name: string; members: string[] }
> = {
  sg1: {
    classGroupId: F.c1,
    subjectId: "math",
    name: "Группа 1",
    members: pupilsOfC1.slice(0, 15),
  },
  sg2: { classGroupId: F.c2, subjectId: "math", name: "Группа 1", members: [F.q1] },
  sg3: {
    classGroupId: F.c1,
    subjectId: "math",
    name: "Группа 2",
    members: pupilsOfC1.slice(15),
  },
};

/** Exemptions (осв.) as reporting keeps them: P1 from PE, P2 and Q1 from maths in the first term. */
export const EXEMPTIONS = [
  { studentId: F.p1, subjectId: "pe", firstDay: "2026-09-14", lastDay: "2026-12-25" },
  { studentId: "p02", subjectId: "math", firstDay: "2026-09-01", lastDay: "2026-10-15" },
  { studentId: F.q1, subjectId: "math", firstDay: "2026-09-07", lastDay: "2026-09-30" },
];

export const TEACHING = [
  { teacherId: F.t1, classGroupId: F.c1, subjectId: "math" },
  { teacherId: F.t3, classGroupId: F.c1, subjectId: "rus" },
  { teacherId: F.t2, classGroupId: F.c2, subjectId: "math" },
];

const account = (personId: string, username: string, roles: [string, string, string][]) => ({
  accountId: `acc-${personId}`,
  personId,
  username,
  grants: roles.map(([role, scopeKind, scopeId]) => ({ role, scopeKind, scopeId })),
  disabled: false,
  createdAt: new Date("2026-09-01T08:00:00Z"),
  lastLoginAt: undefined as Date | undefined,
});

/** User accounts (identity's ListAccounts); a pupil's username holds "Pupil-" as their name does. */
export const ACCOUNTS = [
  account(F.p1, `Pupil-${F.p1}.login`, [["STUDENT", "", ""]]),
  {
    ...account(F.t1, "teacher.t1", [["TEACHER", "school", F.s1]]),
    lastLoginAt: new Date("2026-10-01T07:30:00Z"),
  },
  { ...account(F.g1, "guardian.g1", [["GUARDIAN", "", ""]]), disabled: true },
  account(F.q1, `Pupil-${F.q1}.login`, [["STUDENT", "", ""]]),
];
