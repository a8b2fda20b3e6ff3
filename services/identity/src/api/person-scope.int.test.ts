import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { ContactKind, PersonKind, Sex } from "@otmetka/proto/identity/v1/identity_service";
import { describe, expect, it } from "vitest";
import { enrollStudent } from "../commands/enrollment.js";
import { assignPortalId, assignStaffToSchool } from "../commands/guardians.js";
import { registerSchool } from "../commands/organisations.js";
import { encryptForPerson } from "../commands/people.js";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import {
  ALL_TABLES,
  cmd,
  givenClassGroup,
  givenPerson,
  givenSchool,
  personalData,
  snapshotTables,
  VALID_INN,
  VALID_OGRN,
} from "../test-support/in-process.js";

/*
 * Commands on a person as a whole (their personal data, erasure, their account, their
 * guardians) answer to every school that holds the person, and so does adding a school to
 * theirs (assigning a teacher to its staff, enrolling a pupil registered elsewhere): one school
 * of theirs is enough to read their data, so a school must not make itself one on its own.
 * The schools holding a person are those they are enrolled at or work at now; with none, their
 * last school (README "A person's schools"): a school the pupil left no longer holds them.
 */
const h = useAuthHarness("identity_person_scope");
const STAFF = PersonKind.PERSON_KIND_STAFF;
const GUARDIAN = PersonKind.PERSON_KIND_GUARDIAN;

/** Schools A and A2 of municipality X, B of municipality Y; callers' metadata. */
async function world() {
  const d = h.identity.deps;
  const a = await givenSchool(d);
  const { schoolId: a2 } = await registerSchool(d, {
    commandId: cmd(),
    municipalityId: a.municipalityId,
    name: "Муниципальное общеобразовательное учреждение СОШ № 2",
    shortName: "СОШ № 2",
    address: "ул. Ленина, 2",
    timeZone: "",
    inn: VALID_INN,
    ogrn: VALID_OGRN,
  });
  const b = await givenSchool(d);
  return {
    a: a.schoolId,
    a2,
    b: b.schoolId,
    groupA: await givenClassGroup(d, { schoolId: a.schoolId, gradeLevel: 5, letter: "А" }),
    groupA2: await givenClassGroup(d, { schoolId: a2, gradeLevel: 5, letter: "А" }),
    groupB: await givenClassGroup(d, { schoolId: b.schoolId, gradeLevel: 5, letter: "А" }),
    adminA: await h.callerWith([`SCHOOL_ADMIN@school:${a.schoolId}`]),
    adminB: await h.callerWith([`SCHOOL_ADMIN@school:${b.schoolId}`]),
    officerX: await h.callerWith([`MUNICIPAL_OFFICER@municipality:${a.municipalityId}`]),
    officerY: await h.callerWith([`MUNICIPAL_OFFICER@municipality:${b.municipalityId}`]),
    platform: h.md(await h.adminToken()),
  };
}
type Md = Awaited<ReturnType<typeof world>>["adminA"];

/** The call is PERMISSION_DENIED naming each of `schoolIds`, and no table changed. */
async function expectDenied(call: () => Promise<unknown>, ...schoolIds: string[]) {
  const before = await snapshotTables(h.identity.deps, ALL_TABLES);
  const err = await grpcError(call());
  expect(err.code, err.details).toBe(status.PERMISSION_DENIED);
  for (const id of schoolIds) expect(err.details).toContain(`school ${id}`);
  expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
}

/** A teacher registered at `home`, then assigned to the staff of `also` (by that school). */
async function teacher(home: string, ...also: string[]) {
  const personId = await givenPerson(h.identity.deps, home, STAFF);
  for (const schoolId of also) {
    await assignStaffToSchool(h.identity.deps, { commandId: cmd(), personId, schoolId });
  }
  return personId;
}

/** A pupil registered at `home`, enrolled in `classGroupId` (written directly, unchecked). */
async function pupil(home: string, classGroupId: string) {
  const personId = await givenPerson(h.identity.deps, home);
  await enrollStudent(h.identity.deps, {
    commandId: cmd(),
    personId,
    classGroupId,
    effectiveDate: "2026-09-01",
  });
  return personId;
}

const change = (personId: string, md: Md) =>
  h.api.changePersonalData(
    { commandId: cmd(), personId, personalData: personalData({ familyName: "Сидорова" }) },
    md,
  );
const erase = (personId: string, md: Md) => h.api.erasePerson({ commandId: cmd(), personId }, md);
const account = (personId: string, md: Md) =>
  h.authApi.createAccount(
    {
      username: `p${Math.random().toString(36).slice(2, 12)}`,
      password: "a long enough password 1",
      personId,
    },
    md,
  );

describe("personal data, erasure and accounts of a person of several schools", () => {
  it("a teacher who also works at B: A's admin may not change, erase or open an account", async () => {
    const w = await world();
    const t = await teacher(w.b, w.a);
    await expectDenied(() => change(t, w.adminA), w.b);
    await expectDenied(() => erase(t, w.adminA), w.b);
    await expectDenied(() => account(t, w.adminA), w.b);
    // Nor B's admin alone, nor an officer covering one of the two.
    await expectDenied(() => change(t, w.adminB), w.a);
    await expectDenied(() => erase(t, w.officerX), w.b);
    await expectDenied(() => account(t, w.officerY), w.a);
    await change(t, w.platform);
    await account(t, w.platform);
    await erase(t, w.platform);
  });

  it("a municipal officer covering every school of the teacher may", async () => {
    const w = await world();
    const t = await teacher(w.a2, w.a);
    await expectDenied(() => change(t, w.adminA), w.a2);
    await change(t, w.officerX);
    await account(t, w.officerX);
    await erase(t, w.officerX);
  });

  it("every missing school is named", async () => {
    const w = await world();
    const t = await teacher(w.b, w.a, w.a2);
    await expectDenied(() => erase(t, w.adminA), w.b, w.a2);
  });

  it("a teacher of A only: A's admin still changes, opens an account and erases", async () => {
    const w = await world();
    const t = await teacher(w.a);
    await change(t, w.adminA);
    await account(t, w.adminA);
    await erase(t, w.adminA);
  });

  it("a pupil registered at A and enrolled at B answers to B: A let them go", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupB);
    await expectDenied(() => change(p, w.adminA), w.b);
    await expectDenied(() => erase(p, w.adminA), w.b);
    await expectDenied(() => account(p, w.adminA), w.b);
    await change(p, w.adminB);
    await account(p, w.adminB);
    await erase(p, w.adminB);
    const inX = await pupil(w.a, w.groupA2);
    await expectDenied(() => change(inX, w.officerY), w.a2);
    await change(inX, w.officerX);
    await erase(inX, w.officerX);
    // Registered and enrolled at A: A's admin alone.
    const own = await pupil(w.a, w.groupA);
    await change(own, w.adminA);
    await account(own, w.adminA);
    await erase(own, w.adminA);
  });
});

/**
 * What the caller may read of the person's data: "all" (GetPeople answers everything,
 * EncryptForPerson and DecryptForPerson pass), "names" (a school that held them before:
 * GetPeople answers the name alone, marked, the others are refused) or "none" (all refused).
 */
async function reads(personId: string, md: Md): Promise<"all" | "names" | "none"> {
  const note = { personId, plaintext: Buffer.from("заметка") };
  const ciphertext = await encryptForPerson(h.identity.deps, note);
  const people = await h.api
    .getPeople({ personIds: [personId], includePersonalData: true }, md)
    .then(
      (r) => r.people,
      (e: { code: number }) => e,
    );
  const calls = [
    () => h.api.encryptForPerson(note, md),
    () => h.api.decryptForPerson({ personId, ciphertext }, md),
  ];
  const codes: number[] = [];
  for (const call of calls)
    codes.push(
      await call().then(
        () => status.OK,
        (e) => e.code,
      ),
    );
  if (Array.isArray(people)) {
    const namesOnly = people[0]?.personalDataNamesOnly;
    expect(codes).toEqual(calls.map(() => (namesOnly ? status.PERMISSION_DENIED : status.OK)));
    return namesOnly ? "names" : "all";
  }
  expect(people.code).toBe(status.PERMISSION_DENIED);
  expect(codes).toEqual(calls.map(() => status.PERMISSION_DENIED));
  return "none";
}

const assign = (personId: string, schoolId: string, md: Md) =>
  h.api.assignStaffToSchool({ commandId: cmd(), personId, schoolId }, md);
const enroll = (personId: string, classGroupId: string, md: Md) =>
  h.api.enrollStudent(
    { commandId: cmd(), personId, classGroupId, effectiveDate: "2026-09-01" },
    md,
  );

const transfer = (personId: string, toClassGroupId: string, md: Md, effectiveDate: string) =>
  h.api.transferStudent({ commandId: cmd(), personId, toClassGroupId, effectiveDate }, md);

describe("a school joining a person's schools (staff assignment, enrollment, transfer)", () => {
  it("A's admin may not assign B's teacher to A, and so never reads their data", async () => {
    const w = await world();
    const t = await teacher(w.b);
    await expectDenied(() => assign(t, w.a, w.adminA), w.b);
    expect(await reads(t, w.adminA)).toBe("none");
    // Nor B's admin alone, nor an officer covering one of the two.
    await expectDenied(() => assign(t, w.a, w.adminB), w.a);
    await expectDenied(() => assign(t, w.a, w.officerX), w.b);
    await expectDenied(() => assign(t, w.a, w.officerY), w.a);
    // Every school already holding the teacher is named.
    const both = await teacher(w.b, w.a2);
    await expectDenied(() => assign(both, w.a, w.adminA), w.b, w.a2);
    // An admin of both schools may, and the platform; then A's staff read the teacher's data.
    const adminAB = await h.userWith([`SCHOOL_ADMIN@school:${w.a}`, `SCHOOL_ADMIN@school:${w.b}`]);
    await assign(t, w.a, h.md(adminAB.token));
    expect(await reads(t, w.adminA)).toBe("all");
    await assign(both, w.a, w.platform);
  });

  it("the municipal officer over every school of the teacher and the receiving one may", async () => {
    const w = await world();
    const t = await teacher(w.a2);
    await expectDenied(() => assign(t, w.a, w.adminA), w.a2);
    expect(await reads(t, w.adminA)).toBe("none");
    await assign(t, w.a, w.officerX);
    expect(await reads(t, w.adminA)).toBe("all");
    // A third school: the officer of X alone no longer covers the teacher's schools.
    await expectDenied(() => assign(t, w.b, w.officerX), w.b);
    await expectDenied(() => assign(t, w.b, w.officerY), w.a2, w.a);
  });

  it("a teacher of A only: A's admin asks no other school; B's admin alone may not take them", async () => {
    const w = await world();
    const t = await teacher(w.a);
    // Registered at A: A is already theirs, so the command itself refuses (not the scope).
    const again = await grpcError(assign(t, w.a, w.adminA));
    expect(again.code, again.details).toBe(status.FAILED_PRECONDITION);
    await expectDenied(() => assign(t, w.b, w.adminB), w.a);
    expect(await reads(t, w.adminB)).toBe("none");
    await assign(t, w.a2, w.officerX);
  });

  it("EnrollStudent of a pupil registered at A, enrolled nowhere, into B needs A too", async () => {
    const w = await world();
    const p = await givenPerson(h.identity.deps, w.a);
    await expectDenied(() => enroll(p, w.groupB, w.adminB), w.a);
    await expectDenied(() => enroll(p, w.groupB, w.officerY), w.a);
    expect(await reads(p, w.adminB)).toBe("none");
    // The receiving school stays needed: A's own admin may not put the pupil into B.
    await expectDenied(() => enroll(p, w.groupB, w.adminA), w.b);
    await enroll(p, w.groupB, w.platform);
    expect(await reads(p, w.adminB)).toBe("all");
    // Within one municipality its officer may; a pupil of A only: A's admin alone, as before.
    await enroll(await givenPerson(h.identity.deps, w.a), w.groupA2, w.officerX);
    await enroll(await givenPerson(h.identity.deps, w.a), w.groupA, w.adminA);
  });

  it("TransferStudent of a pupil registered at A, enrolled at B, to A2 needs B and A2", async () => {
    const w = await world();
    const p = await givenPerson(h.identity.deps, w.a);
    await enroll(p, w.groupB, w.platform);
    const adminA2 = await h.callerWith([`SCHOOL_ADMIN@school:${w.a2}`]);
    // The school left and the school joined; the registering school let the pupil go to B.
    await expectDenied(() => transfer(p, w.groupA2, w.adminA, "2026-10-01"), w.a2, w.b);
    await expectDenied(() => transfer(p, w.groupA2, w.officerX, "2026-10-01"), w.b);
    await expectDenied(() => transfer(p, w.groupA2, w.officerY, "2026-10-01"), w.a2);
    expect(await reads(p, adminA2)).toBe("none");
    // Within B nothing joins the pupil's schools: B alone, as RollOverYear does.
    const groupB2 = await givenClassGroup(h.identity.deps, {
      schoolId: w.b,
      gradeLevel: 5,
      letter: "Б",
    });
    await transfer(p, groupB2, w.adminB, "2026-10-01");
    // An unknown pupil is no transfer within B: only region-wide roles pass (then NOT_FOUND).
    await expectDenied(() => transfer(randomUUID(), groupB2, w.adminB, "2026-10-01"));
    await transfer(p, w.groupA2, w.platform, "2026-11-01");
    expect(await reads(p, adminA2)).toBe("all");
    expect(await reads(p, w.adminB)).toBe("names");
  });

  it("TransferStudent of a pupil of A only to A2: A and A2, as before", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupA);
    await expectDenied(() => transfer(p, w.groupA2, w.adminA, "2026-10-01"), w.a2);
    await transfer(p, w.groupA2, w.officerX, "2026-10-01");
    const { enrollments } = await h.api.getEnrollmentHistory({ personId: p }, w.adminA);
    expect(enrollments.map((e) => e.classGroupId)).toEqual([w.groupA, w.groupA2]);
  });
});

describe("guardians, consent, roles and legal holds of a person of several schools", () => {
  it("LinkGuardian, UnlinkGuardian and consent recorded by a school need every school of the pupil", async () => {
    const w = await world();
    // A pupil of A and B at once does not exist (one class group at any date): a staff member
    // who also studies is not modelled either, so the pupil's schools are one, and a school
    // that only registered them (A) is no longer one once they are enrolled at B.
    const p = await pupil(w.a, w.groupB);
    const g = await givenPerson(h.identity.deps, w.b, GUARDIAN);
    const link = (md: Md) =>
      h.api.linkGuardian({ commandId: cmd(), studentId: p, guardianId: g }, md);
    await expectDenied(() => link(w.adminA), w.b);
    await link(w.adminB);
    await expectDenied(
      () => h.api.unlinkGuardian({ commandId: cmd(), studentId: p, guardianId: g }, w.adminA),
      w.b,
    );
    const consent = { studentId: p, guardianId: g };
    await expectDenied(
      () => h.api.grantPortalConsent({ commandId: cmd(), ...consent }, w.adminA),
      w.b,
    );
    // The guardian themself decides, whatever the schools.
    const self = await h.callerWith(["GUARDIAN"], g);
    await h.api.grantPortalConsent({ commandId: cmd(), ...consent }, self);
    await expectDenied(
      () => h.api.withdrawPortalConsent({ commandId: cmd(), ...consent }, w.adminA),
      w.b,
    );
    await h.api.withdrawPortalConsent({ commandId: cmd(), ...consent }, w.adminB);
    // A pupil of A only and a guardian of A only: A's admin alone.
    const own = await pupil(w.a, w.groupA);
    const gA = await givenPerson(h.identity.deps, w.a, GUARDIAN);
    await h.api.linkGuardian({ commandId: cmd(), studentId: own, guardianId: gA }, w.adminA);
  });

  it("GrantRole / RevokeRole STUDENT and GUARDIAN need every school of the account's person", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupB);
    const { accountId } = await h.userWith([], p);
    const role = (verb: "grantRole" | "revokeRole", md: Md) =>
      h.authApi[verb](
        { commandId: cmd(), accountId, grant: { role: "STUDENT", scopeKind: "", scopeId: "" } },
        md,
      );
    await expectDenied(() => role("grantRole", w.adminA), w.b);
    await role("grantRole", w.adminB);
    await expectDenied(() => role("revokeRole", w.adminA), w.b);
    await role("revokeRole", w.adminB);
    const own = await pupil(w.a, w.groupA);
    const ownAccount = await h.userWith([], own);
    await h.authApi.grantRole(
      {
        commandId: cmd(),
        accountId: ownAccount.accountId,
        grant: { role: "STUDENT", scopeKind: "", scopeId: "" },
      },
      w.adminA,
    );
  });

  it("a legal hold is placed by an authority of one school, lifted only over every school", async () => {
    const w = await world();
    const t = await teacher(w.b, w.a);
    const hold = (verb: "placeLegalHold" | "liftLegalHold", md: Md) =>
      h.api[verb]({ commandId: cmd(), personId: t, reason: "дело № 2-15/2026" }, md);
    await hold("placeLegalHold", w.officerY);
    await expectDenied(() => hold("liftLegalHold", w.officerX), w.b);
    await expectDenied(() => hold("liftLegalHold", w.officerY), w.a);
    await hold("liftLegalHold", w.platform);
    await hold("placeLegalHold", w.officerX);
    const ministry = await h.callerWith(["MINISTRY_OFFICER@region:74"]);
    await hold("liftLegalHold", ministry);
  });
});

const withdraw = (personId: string, md: Md, effectiveDate: string) =>
  h.api.withdrawStudent({ commandId: cmd(), personId, effectiveDate }, md);
const accountsOf = async (schoolId: string, md: Md) =>
  (
    await h.authApi.listAccounts({ schoolId, personId: "", pageSize: 1000, pageToken: "" }, md)
  ).accounts.map((a) => a.personId);

describe("a school the pupil left", () => {
  it("after a transfer, the old school no longer reads or lists them; the new one acts alone", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupA);
    await h.userWith([], p);
    expect(await reads(p, w.adminA)).toBe("all");
    expect(await accountsOf(w.a, w.adminA)).toContain(p);
    const currentSchools = async () =>
      (await h.api.getPeople({ personIds: [p], includePersonalData: false }, w.platform)).people[0]
        ?.currentSchoolIds;
    expect(await currentSchools()).toEqual([w.a]);
    await transfer(p, w.groupB, w.platform, "2026-10-01");
    // What callers are judged against (the gateway's own check too); school_id stays A.
    expect(await currentSchools()).toEqual([w.b]);
    // The old school: the name alone (its journals list the pupil), no account listing, no say.
    expect(await reads(p, w.adminA)).toBe("names");
    expect(await accountsOf(w.a, w.adminA)).not.toContain(p);
    await expectDenied(() => change(p, w.adminA), w.b);
    // Its own journal stays its own: the enrollment history still shows the stay at A.
    const { enrollments } = await h.api.getEnrollmentHistory({ personId: p }, w.adminA);
    expect(enrollments.map((e) => e.classGroupId)).toEqual([w.groupA, w.groupB]);
    // The new school alone reads, lists and manages the pupil.
    expect(await reads(p, w.adminB)).toBe("all");
    expect(await accountsOf(w.b, w.adminB)).toContain(p);
    await change(p, w.adminB);
    await account(p, w.adminB);
    const g = await givenPerson(h.identity.deps, w.b, GUARDIAN);
    await h.api.linkGuardian({ commandId: cmd(), studentId: p, guardianId: g }, w.adminB);
    await erase(p, w.adminB);
  });

  it("a withdrawn pupil stays with the school that withdrew them until another enrolls them", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupA);
    await transfer(p, w.groupB, w.platform, "2026-10-01");
    await withdraw(p, w.adminB, "2026-11-01");
    // Enrolled nowhere: their last school (B), not the one that registered them (A).
    expect(await reads(p, w.adminB)).toBe("all");
    expect(await reads(p, w.adminA)).toBe("names");
    await expectDenied(() => change(p, w.adminA), w.b);
    await change(p, w.adminB);
    // A2 takes them in: only with B (as any school joining a person), and then A2 alone.
    const adminA2 = await h.callerWith([`SCHOOL_ADMIN@school:${w.a2}`]);
    const intoA2 = (md: Md) =>
      h.api.enrollStudent(
        { commandId: cmd(), personId: p, classGroupId: w.groupA2, effectiveDate: "2026-11-15" },
        md,
      );
    await expectDenied(() => intoA2(adminA2), w.b);
    await intoA2(w.platform);
    expect(await reads(p, adminA2)).toBe("all");
    expect(await reads(p, w.adminB)).toBe("names");
    await erase(p, adminA2);
  });

  it("a pupil only registered (never enrolled) stays with the registering school", async () => {
    const w = await world();
    const p = await givenPerson(h.identity.deps, w.a);
    expect(await reads(p, w.adminA)).toBe("all");
    expect(await reads(p, w.adminB)).toBe("none");
    await change(p, w.adminA);
  });
});

describe("a school that held the pupil before reads their name only", () => {
  const CONTACT = { kind: ContactKind.CONTACT_KIND_PHONE, value: "+7 912 345-67-89" };
  /** A pupil of A with contacts and a portal id, transferred to B on 1 October. */
  async function departed(w: Awaited<ReturnType<typeof world>>) {
    const p = await givenPerson(h.identity.deps, w.a, undefined, { contacts: [CONTACT] });
    await enroll(p, w.groupA, w.platform);
    await assignPortalId(h.identity.deps, { commandId: cmd(), studentId: p, portalId: "ЕПГУ-1" });
    await transfer(p, w.groupB, w.platform, "2026-10-01");
    return p;
  }
  const people = async (personIds: string[], md: Md) =>
    (await h.api.getPeople({ personIds, includePersonalData: true }, md)).people;
  const NAME_ONLY = {
    personalData: {
      familyName: "Петрова",
      givenName: "Анна",
      patronymic: "Сергеевна",
      birthDate: "",
      sex: Sex.SEX_UNSPECIFIED,
      snils: "",
      contacts: [],
    },
    portalId: "",
    personalDataNamesOnly: true,
  };

  it("after a transfer A→B: A's admin, teacher and officer get the name, marked; B everything; others nothing", async () => {
    const w = await world();
    const p = await departed(w);
    const teacherA = await h.callerWith([`TEACHER@school:${w.a}`]);
    for (const md of [w.adminA, teacherA, w.officerX]) {
      const [person] = await people([p], md);
      expect(person).toMatchObject({ personId: p, schoolId: w.a, ...NAME_ONLY });
    }
    const teacherB = await h.callerWith([`TEACHER@school:${w.b}`]);
    for (const md of [w.adminB, teacherB, w.officerY, w.platform]) {
      const [person] = await people([p], md);
      expect(person).toMatchObject({
        personalData: personalData({ contacts: [CONTACT], snils: "11223344595" }),
        portalId: "ЕПГУ-1",
        personalDataNamesOnly: false,
      });
    }
    // A school that never held the pupil: refused, as before.
    const adminA2 = await h.callerWith([`SCHOOL_ADMIN@school:${w.a2}`]);
    const teacherA2 = await h.callerWith([`TEACHER@school:${w.a2}`]);
    for (const md of [adminA2, teacherA2]) {
      const err = await grpcError(people([p], md));
      expect({ code: err.code, field: err.metadata.get("field") }, err.details).toEqual({
        code: status.PERMISSION_DENIED,
        field: ["person_ids[0]"],
      });
    }
    // Without personal data nothing is marked.
    const plain = await h.api.getPeople({ personIds: [p], includePersonalData: false }, w.adminA);
    expect(plain.people[0]).toMatchObject({
      personalData: undefined,
      personalDataNamesOnly: false,
    });
    // Everything else stays the current school's: encryption for the person, management.
    expect(await reads(p, w.adminA)).toBe("names");
    expect(await reads(p, teacherA)).toBe("names");
    await expectDenied(() => change(p, w.adminA), w.b);
    await expectDenied(() => erase(p, w.adminA), w.b);
    await expectDenied(() => account(p, w.adminA), w.b);
  });

  it("a batch of A's journal with current pupils and a departed one: full data and the name alone", async () => {
    const w = await world();
    const p = await departed(w);
    const stay1 = await pupil(w.a, w.groupA);
    const stay2 = await pupil(w.a, w.groupA);
    const answer = await people([stay1, p, stay2], w.adminA);
    expect(answer.map((x) => x.personId)).toEqual([stay1, p, stay2]);
    for (const current of [answer[0], answer[2]]) {
      expect(current).toMatchObject({
        personalData: personalData({ snils: "11223344595" }),
        personalDataNamesOnly: false,
      });
    }
    expect(answer[1]).toMatchObject(NAME_ONLY);
    // However the id is spelled.
    expect((await people([p.toUpperCase()], w.adminA))[0]).toMatchObject(NAME_ONLY);
    // One person A never held still refuses the whole call, naming them.
    const elsewhere = await pupil(w.b, w.groupB);
    const err = await grpcError(people([stay1, p, elsewhere], w.adminA));
    expect({ code: err.code, field: err.metadata.get("field") }, err.details).toEqual({
      code: status.PERMISSION_DENIED,
      field: ["person_ids[2]"],
    });
  });

  it("a pupil registered at A and enrolled at B: A, the registering school, reads the name", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupB);
    const [person] = await people([p], w.adminA);
    expect(person).toMatchObject({
      personalDataNamesOnly: true,
      personalData: NAME_ONLY.personalData,
    });
    expect((await people([p], w.adminB))[0]?.personalDataNamesOnly).toBe(false);
  });
});

const unassign = (personId: string, schoolId: string, md: Md) =>
  h.api.unassignStaffFromSchool({ commandId: cmd(), personId, schoolId }, md);

describe("a school the staff member left", () => {
  it("no longer reads or manages them; the school they still work at acts alone", async () => {
    const w = await world();
    const t = await teacher(w.b, w.a);
    await expectDenied(() => change(t, w.adminA), w.b);
    // B ends its own assignment (the registering school); A may not end it for B.
    await expectDenied(() => unassign(t, w.b, w.adminA), w.b);
    await unassign(t, w.b, w.adminB);
    // The registering school keeps the name, as a school assigned and left does (below).
    expect(await reads(t, w.adminB)).toBe("names");
    expect(await accountsOf(w.b, w.adminB)).not.toContain(t);
    await expectDenied(() => change(t, w.adminB), w.a);
    expect((await h.api.getStaffSchools({ personId: t }, w.adminA)).schoolIds).toEqual([w.a]);
    await change(t, w.adminA);
    await account(t, w.adminA);
    // Taken on again by B: as any school joining a person, with A's consent.
    await expectDenied(() => assign(t, w.b, w.adminB), w.a);
    const adminAB = await h.userWith([`SCHOOL_ADMIN@school:${w.a}`, `SCHOOL_ADMIN@school:${w.b}`]);
    await assign(t, w.b, h.md(adminAB.token));
    expect(await reads(t, w.adminB)).toBe("all");
    // An assigned school leaves the same way; the registering one is listed first.
    await unassign(t, w.a, w.adminA);
    expect(await reads(t, w.adminA)).toBe("names");
    expect((await h.api.getStaffSchools({ personId: t }, w.adminB)).schoolIds).toEqual([w.b]);
    await erase(t, w.adminB);
  });

  it("a school the teacher was assigned to and left reads their name only (its journals' lessons)", async () => {
    const w = await world();
    const t = await teacher(w.b, w.a);
    const teacherA = await h.callerWith([`TEACHER@school:${w.a}`]);
    await unassign(t, w.a, w.adminA);
    for (const md of [w.adminA, teacherA, w.officerX]) {
      const { people } = await h.api.getPeople({ personIds: [t], includePersonalData: true }, md);
      expect(people[0]).toMatchObject({
        personId: t,
        currentSchoolIds: [w.b],
        personalDataNamesOnly: true,
        personalData: { familyName: "Петрова", birthDate: "", snils: "", contacts: [] },
      });
    }
    expect(await reads(t, teacherA)).toBe("names");
    // Nothing else: B manages them alone; a school that never had them reads nothing.
    await expectDenied(() => change(t, w.adminA), w.b);
    expect(await accountsOf(w.a, w.adminA)).not.toContain(t);
    expect(await reads(t, await h.callerWith([`SCHOOL_ADMIN@school:${w.a2}`]))).toBe("none");
    // Taken on again (with B's consent): A reads everything again.
    const adminAB = await h.userWith([`SCHOOL_ADMIN@school:${w.a}`, `SCHOOL_ADMIN@school:${w.b}`]);
    await assign(t, w.a, h.md(adminAB.token));
    expect(await reads(t, w.adminA)).toBe("all");
  });

  it("leaving ends the teacher's roles at that school (every account), the other school's stay", async () => {
    const w = await world();
    const t = await teacher(w.b, w.a);
    const work = await h.userWith(
      [`TEACHER@school:${w.a}`, `SCHOOL_ADMIN@school:${w.a}`, `TEACHER@school:${w.b}`],
      t,
    );
    const second = await h.userWith([`TEACHER@school:${w.a}`], t);
    const grantsOf = async (accountId: string) =>
      (await h.authApi.getAccount({ accountId }, w.platform)).grants.map(
        (g) => `${g.role}@${g.scopeKind}:${g.scopeId}`,
      );
    const leave = { commandId: cmd(), personId: t, schoolId: w.a };
    await h.api.unassignStaffFromSchool(leave, w.adminA);
    expect(await grantsOf(work.accountId)).toEqual([`TEACHER@school:${w.b}`]);
    expect(await grantsOf(second.accountId)).toEqual([]);
    // The next login carries no role at A: the teacher can no longer act there.
    const relogged = h.md((await h.login(work.username, work.password)).accessToken);
    expect(await reads(t, relogged)).toBe("all");
    const other = await pupil(w.a, w.groupA);
    expect(await reads(other, relogged)).toBe("none");
    // A retry answers as the first time, changing nothing.
    const before = await snapshotTables(h.identity.deps, ALL_TABLES);
    await h.api.unassignStaffFromSchool(leave, w.adminA);
    expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
  });

  it("refuses a staff member ending their own work at a school (an admin would lock themselves out)", async () => {
    const w = await world();
    const t = await teacher(w.b, w.a);
    const self = await h.userWith([`SCHOOL_ADMIN@school:${w.a}`, `TEACHER@school:${w.b}`], t);
    const before = await snapshotTables(h.identity.deps, ALL_TABLES);
    const err = await grpcError(
      h.api.unassignStaffFromSchool(
        { commandId: cmd(), personId: t.toUpperCase(), schoolId: w.a },
        h.md(self.token),
      ),
    );
    expect({ code: err.code, field: err.metadata.get("field")[0] }).toEqual({
      code: status.PERMISSION_DENIED,
      field: "person_id",
    });
    expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
    // Another admin of the school may.
    await h.api.unassignStaffFromSchool({ commandId: cmd(), personId: t, schoolId: w.a }, w.adminA);
  });

  it("refuses the only school, a school not theirs and a person who is not staff", async () => {
    const w = await world();
    const t = await teacher(w.a);
    const refusedWith = async (call: () => Promise<unknown>, field: string) => {
      const before = await snapshotTables(h.identity.deps, ALL_TABLES);
      const err = await grpcError(call());
      expect({ code: err.code, field: err.metadata.get("field") }, err.details).toEqual({
        code: status.FAILED_PRECONDITION,
        field: [field],
      });
      expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
    };
    await refusedWith(() => unassign(t, w.a, w.adminA), "school_id");
    await refusedWith(() => unassign(t, w.b, w.platform), "school_id");
    const p = await pupil(w.a, w.groupA);
    await refusedWith(() => unassign(p, w.a, w.adminA), "person_id");
  });
});

describe("a guardian's schools are their children's", () => {
  const link = (studentId: string, guardianId: string, md: Md) =>
    h.api.linkGuardian({ commandId: cmd(), studentId, guardianId }, md);

  it("follow the child to a new school: the new one reads and manages the guardian, the old one not", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupA);
    const g = await givenPerson(h.identity.deps, w.a, GUARDIAN);
    await link(p, g, w.adminA);
    await h.userWith([], g);
    expect(await reads(g, w.adminB)).toBe("none");
    await transfer(p, w.groupB, w.platform, "2026-10-01");
    expect(await reads(g, w.adminB)).toBe("all");
    // A registered the guardian: the name alone.
    expect(await reads(g, w.adminA)).toBe("names");
    expect(await accountsOf(w.b, w.adminB)).toContain(g);
    expect(await accountsOf(w.a, w.adminA)).not.toContain(g);
    await expectDenied(() => change(g, w.adminA), w.b);
    await change(g, w.adminB);
    await account(g, w.adminB);
    // The child withdrawn: the guardian stays with the child's last school.
    await withdraw(p, w.adminB, "2026-11-01");
    expect(await reads(g, w.adminB)).toBe("all");
    expect(await reads(g, w.adminA)).toBe("names");
  });

  it("linking needs every school of the guardian too; children at two schools: both", async () => {
    const w = await world();
    const p = await pupil(w.a, w.groupA);
    const gB = await givenPerson(h.identity.deps, w.b, GUARDIAN);
    // A's admin may not link B's guardian to A's pupil, and so never reads their data.
    await expectDenied(() => link(p, gB, w.adminA), w.b);
    expect(await reads(gB, w.adminA)).toBe("none");
    await link(p, gB, w.platform);
    // Now a child at A; with a second child at B the guardian answers to both.
    const sibling = await pupil(w.b, w.groupB);
    await expectDenied(() => link(sibling, gB, w.adminA), w.b);
    await link(sibling, gB, w.platform);
    expect(await reads(gB, w.adminA)).toBe("all");
    expect(await reads(gB, w.adminB)).toBe("all");
    await expectDenied(() => change(gB, w.adminA), w.b);
    await expectDenied(() => change(gB, w.adminB), w.a);
    // Unlinking only narrows: the pupil's school alone.
    await h.api.unlinkGuardian({ commandId: cmd(), studentId: sibling, guardianId: gB }, w.adminB);
    expect(await reads(gB, w.adminB)).toBe("names");
    await change(gB, w.adminA);
  });
});

describe("a person's current schools (GetPeople current_school_ids)", () => {
  it("go only to callers who may read the person; others get the person's ids alone", async () => {
    const w = await world();
    const p = await pupil(w.a2, w.groupA2);
    const q = await pupil(w.a, w.groupA);
    const g = await givenPerson(h.identity.deps, w.a2, GUARDIAN);
    await h.api.linkGuardian({ commandId: cmd(), studentId: p, guardianId: g }, w.platform);
    const schoolsOf = async (md: Md, ids = [p]) =>
      (await h.api.getPeople({ personIds: ids, includePersonalData: false }, md)).people.map(
        (x) => [x.personId, x.currentSchoolIds],
      );
    const readers = {
      platform: w.platform,
      officerX: w.officerX,
      teacherA2: await h.callerWith([`TEACHER@school:${w.a2}`]),
      ministry: await h.callerWith(["MINISTRY_OFFICER@region:74"]),
      self: await h.callerWith(["STUDENT"], p),
      guardian: await h.callerWith(["GUARDIAN"], g),
    };
    for (const [who, md] of Object.entries(readers)) {
      expect([who, await schoolsOf(md)]).toEqual([who, [[p, [w.a2]]]]);
    }
    // Another school of the same municipality, another municipality's school and officer, and
    // a guardian of another child: the person (ids), not where they are now.
    const otherGuardian = await givenPerson(h.identity.deps, w.a, GUARDIAN);
    await h.api.linkGuardian(
      { commandId: cmd(), studentId: q, guardianId: otherGuardian },
      w.platform,
    );
    const others = {
      adminA: w.adminA,
      adminB: w.adminB,
      officerY: w.officerY,
      guardianOfQ: await h.callerWith(["GUARDIAN"], otherGuardian),
    };
    for (const [who, md] of Object.entries(others)) {
      expect([who, await schoolsOf(md)]).toEqual([who, [[p, []]]]);
    }
    // In one batch, per person: A's admin gets its own pupil's schools.
    expect(await schoolsOf(w.adminA, [q, p])).toEqual([
      [q, [w.a]],
      [p, []],
    ]);
    // A former school reads the name, and where the pupil is now (its check, and the gateway's,
    // must see that the pupil left); a school that never held them still gets nothing.
    await transfer(p, w.groupB, w.platform, "2026-10-01");
    expect(await schoolsOf(await h.callerWith([`SCHOOL_ADMIN@school:${w.a2}`]))).toEqual([
      [p, [w.b]],
    ]);
    expect(await schoolsOf(w.adminA)).toEqual([[p, []]]);
    expect(await schoolsOf(w.adminB)).toEqual([[p, [w.b]]]);
  });
});

describe("a pupil's enrollment history (GetEnrollmentHistory)", () => {
  it("goes to GetPeople's readers of the person; anyone else is refused, naming the person", async () => {
    const w = await world();
    const p = await pupil(w.a2, w.groupA2);
    const q = await pupil(w.a, w.groupA);
    const g = await givenPerson(h.identity.deps, w.a2, GUARDIAN);
    await h.api.linkGuardian({ commandId: cmd(), studentId: p, guardianId: g }, w.platform);
    const otherGuardian = await givenPerson(h.identity.deps, w.a, GUARDIAN);
    await h.api.linkGuardian(
      { commandId: cmd(), studentId: q, guardianId: otherGuardian },
      w.platform,
    );
    const { clientId, clientSecret } = await h.authApi.createServiceAccount(
      { serviceName: "reporting" },
      w.platform,
    );
    const service = h.md(
      (await h.authApi.issueServiceToken({ clientId, clientSecret })).accessToken,
    );
    const history = async (md: Md, personId = p) =>
      (await h.api.getEnrollmentHistory({ personId }, md)).enrollments.map((e) => e.classGroupId);
    const denied = async (md: Md, personId = p) => {
      const err = await grpcError(h.api.getEnrollmentHistory({ personId }, md));
      return [err.code, err.details.startsWith(`person_id: `) && err.details.includes(personId)];
    };
    const readers = {
      platform: w.platform,
      service,
      officerX: w.officerX,
      ministry: await h.callerWith(["MINISTRY_OFFICER@region:74"]),
      adminA2: await h.callerWith([`SCHOOL_ADMIN@school:${w.a2}`]),
      // A teacher of the pupil's school (the journal and diary are theirs to keep).
      teacherA2: await h.callerWith([`TEACHER@school:${w.a2}`]),
      self: await h.callerWith(["STUDENT"], p),
      guardian: await h.callerWith(["GUARDIAN"], g),
    };
    for (const [who, md] of Object.entries(readers)) {
      expect([who, await history(md)]).toEqual([who, [w.groupA2]]);
    }
    // Another school's teacher and admin (same municipality or not), another municipality's
    // officer, another child's parent, another pupil: refused, whatever they hold elsewhere.
    const others = {
      teacherA: await h.callerWith([`TEACHER@school:${w.a}`]),
      teacherB: await h.callerWith([`TEACHER@school:${w.b}`]),
      adminB: w.adminB,
      officerY: w.officerY,
      guardianOfQ: await h.callerWith(["GUARDIAN"], otherGuardian),
      pupilQ: await h.callerWith(["STUDENT"], q),
    };
    for (const [who, md] of Object.entries(others)) {
      expect([who, await denied(md)]).toEqual([who, [status.PERMISSION_DENIED, true]]);
    }
    // An id that names no one: refused alike (existence is not told); unscoped roles find none.
    const nobody = randomUUID();
    expect(await denied(others.teacherA, nobody)).toEqual([status.PERMISSION_DENIED, true]);
    expect(await history(service, nobody)).toEqual([]);
    // A former school keeps its own history, and learns the new stay, as with
    // current_school_ids; the new school reads it all; a school that never held them does not.
    await transfer(p, w.groupB, w.platform, "2026-10-01");
    expect(await history(readers.teacherA2)).toEqual([w.groupA2, w.groupB]);
    expect(await history(others.teacherB)).toEqual([w.groupA2, w.groupB]);
    expect(await denied(others.teacherA)).toEqual([status.PERMISSION_DENIED, true]);
    const bad = await grpcError(h.api.getEnrollmentHistory({ personId: "x" }, others.teacherA));
    expect([bad.code, bad.details]).toEqual([status.INVALID_ARGUMENT, "person_id: must be a UUID"]);
  });
});
