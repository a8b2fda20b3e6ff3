import { status } from "@grpc/grpc-js";
import { PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import { describe, expect, it } from "vitest";
import { enrollStudent } from "../commands/enrollment.js";
import { assignStaffToSchool } from "../commands/guardians.js";
import { openSubgroup } from "../commands/subgroups.js";
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
} from "../test-support/in-process.js";

/*
 * A school's administration acts within its own school: whatever a command writes into
 * (a roster, a staff list, a role's scope) must be a school the caller holds the role over.
 */
const h = useAuthHarness("identity_school_scope");
const STAFF = PersonKind.PERSON_KIND_STAFF;

/** Schools A and B (each in its own municipality), class groups, and callers' metadata. */
async function world() {
  const d = h.identity.deps;
  const a = await givenSchool(d);
  const b = await givenSchool(d);
  const group = (schoolId: string, letter: string) =>
    givenClassGroup(d, { schoolId, gradeLevel: 5, letter });
  return {
    a,
    b,
    groupA: await group(a.schoolId, "А"),
    groupA2: await group(a.schoolId, "Б"),
    groupB: await group(b.schoolId, "А"),
    adminA: await h.callerWith([`SCHOOL_ADMIN@school:${a.schoolId}`]),
    adminB: await h.callerWith([`SCHOOL_ADMIN@school:${b.schoolId}`]),
    officerA: await h.callerWith([`MUNICIPAL_OFFICER@municipality:${a.municipalityId}`]),
    officerB: await h.callerWith([`MUNICIPAL_OFFICER@municipality:${b.municipalityId}`]),
    platform: h.md(await h.adminToken()),
  };
}

/** The call is PERMISSION_DENIED naming `schoolId`, and no table changed. */
async function expectDenied(call: () => Promise<unknown>, schoolId: string) {
  const before = await snapshotTables(h.identity.deps, ALL_TABLES);
  const err = await grpcError(call());
  expect(err.code, err.details).toBe(status.PERMISSION_DENIED);
  expect(err.details).toContain(`school ${schoolId}`);
  expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
}

const pupilAt = (schoolId: string) => givenPerson(h.identity.deps, schoolId);
const enrolledIn = async (schoolId: string, classGroupId: string) => {
  const personId = await pupilAt(schoolId);
  await enrollStudent(h.identity.deps, {
    commandId: cmd(),
    personId,
    classGroupId,
    effectiveDate: "2026-09-01",
  });
  return personId;
};

describe("enrollment writes only into class groups of the caller's schools", () => {
  it("EnrollStudent: another school's class group is refused, even for the pupil's own school", async () => {
    const w = await world();
    const enroll = (personId: string, classGroupId: string, md: typeof w.adminA) =>
      h.api.enrollStudent(
        { commandId: cmd(), personId, classGroupId, effectiveDate: "2026-09-01" },
        md,
      );
    const pupilOfA = await pupilAt(w.a.schoolId);
    await expectDenied(() => enroll(pupilOfA, w.groupB, w.adminA), w.b.schoolId);
    await expectDenied(() => enroll(pupilOfA, w.groupB, w.officerA), w.b.schoolId);
    await enroll(pupilOfA, w.groupA, w.adminA);
    // A pupil registered elsewhere also needs their school (person-scope.int.test.ts).
    await enroll(await pupilAt(w.a.schoolId), w.groupB, w.platform);
  });

  it("TransferStudent needs the caller over both the school left and the school joined", async () => {
    const w = await world();
    const transfer = (personId: string, toClassGroupId: string, md: typeof w.adminA) =>
      h.api.transferStudent(
        { commandId: cmd(), personId, toClassGroupId, effectiveDate: "2026-10-01" },
        md,
      );
    // Registered and enrolled at A: A and B exactly; a pupil registered elsewhere also needs
    // the registering school (person-scope.int.test.ts).
    const pupil = await enrolledIn(w.a.schoolId, w.groupA);
    await expectDenied(() => transfer(pupil, w.groupB, w.adminA), w.b.schoolId);
    await expectDenied(() => transfer(pupil, w.groupB, w.adminB), w.a.schoolId);
    await expectDenied(() => transfer(pupil, w.groupB, w.officerB), w.a.schoolId);
    await transfer(pupil, w.groupA2, w.adminA);
    await transfer(await enrolledIn(w.a.schoolId, w.groupA), w.groupA2, w.officerA);
    await transfer(await enrolledIn(w.a.schoolId, w.groupA), w.groupB, w.platform);
    const { enrollments } = await h.api.getEnrollmentHistory({ personId: pupil }, w.adminA);
    expect(enrollments.map((e) => e.classGroupId)).toEqual([w.groupA, w.groupA2]);
  });

  it("WithdrawStudent needs the school the pupil is enrolled at, not the one that registered them", async () => {
    const w = await world();
    const pupil = await enrolledIn(w.a.schoolId, w.groupB);
    const withdraw = (md: typeof w.adminA) =>
      h.api.withdrawStudent({ commandId: cmd(), personId: pupil, effectiveDate: "2026-10-01" }, md);
    await expectDenied(() => withdraw(w.adminA), w.b.schoolId);
    await withdraw(w.adminB);
    const other = await enrolledIn(w.a.schoolId, w.groupA);
    await h.api.withdrawStudent(
      { commandId: cmd(), personId: other, effectiveDate: "2026-10-01" },
      w.platform,
    );
  });
});

describe("staff, class groups and roles of another school", () => {
  it("AssignStaffToSchool and RegisterPerson as staff: only into the caller's school", async () => {
    const w = await world();
    const staffA = await givenPerson(h.identity.deps, w.a.schoolId, STAFF);
    const assign = (personId: string, schoolId: string, md: typeof w.adminA) =>
      h.api.assignStaffToSchool({ commandId: cmd(), personId, schoolId }, md);
    await expectDenied(() => assign(staffA, w.b.schoolId, w.adminA), w.b.schoolId);
    await expectDenied(() => assign(staffA, w.b.schoolId, w.officerA), w.b.schoolId);
    // Into the caller's school, another school's teacher needs that school too
    // (person-scope.int.test.ts).
    await assign(staffA, w.b.schoolId, w.platform);
    const register = (schoolId: string, md: typeof w.adminA) =>
      h.api.registerPerson(
        { commandId: cmd(), kind: STAFF, schoolId, personalData: personalData() },
        md,
      );
    await expectDenied(() => register(w.b.schoolId, w.adminA), w.b.schoolId);
    expect((await register(w.a.schoolId, w.adminA)).personId).toBeTruthy();
    expect((await register(w.b.schoolId, w.platform)).personId).toBeTruthy();
  });

  it("homeroom teachers, class groups and subgroups: only in the caller's school", async () => {
    const w = await world();
    const teacher = await givenPerson(h.identity.deps, w.a.schoolId, STAFF);
    const homeroom = (classGroupId: string, md: typeof w.adminA) =>
      h.api.assignHomeroomTeacher(
        { commandId: cmd(), classGroupId, homeroomTeacherId: teacher },
        md,
      );
    await expectDenied(() => homeroom(w.groupB, w.adminA), w.b.schoolId);
    await homeroom(w.groupA, w.adminA);
    await homeroom(w.groupB, w.platform);
    const open = (schoolId: string, letter: string, md: typeof w.adminA) =>
      h.api.openClassGroup(
        {
          commandId: cmd(),
          schoolId,
          academicYear: { startYear: 2026 },
          gradeLevel: 7,
          letter,
          homeroomTeacherId: teacher,
        },
        md,
      );
    await expectDenied(() => open(w.b.schoolId, "В", w.adminA), w.b.schoolId);
    await open(w.a.schoolId, "В", w.adminA);
    await open(w.b.schoolId, "Г", w.platform);
    const pupilB = await enrolledIn(w.b.schoolId, w.groupB);
    const { subgroupId } = await openSubgroup(h.identity.deps, {
      commandId: cmd(),
      classGroupId: w.groupB,
      subjectId: "english",
      name: "1",
    });
    const teacherA = await h.callerWith([`TEACHER@school:${w.a.schoolId}`]);
    const member = (md: typeof w.adminA) =>
      h.api.addSubgroupMember(
        { commandId: cmd(), subgroupId, personId: pupilB, effectiveDate: "2026-09-01" },
        md,
      );
    await expectDenied(() => member(teacherA), w.b.schoolId);
    await expectDenied(() => member(w.adminA), w.b.schoolId);
    await member(w.adminB);
  });

  it("GrantRole TEACHER / SCHOOL_ADMIN: only at the caller's school (or municipality)", async () => {
    const w = await world();
    // A teacher of A and B: school roles go to a person working at the school.
    const teacher = await givenPerson(h.identity.deps, w.a.schoolId, PersonKind.PERSON_KIND_STAFF);
    await assignStaffToSchool(h.identity.deps, {
      commandId: cmd(),
      personId: teacher,
      schoolId: w.b.schoolId,
    });
    const target = await h.userWith([], teacher);
    const grant = (role: string, schoolId: string, md: typeof w.adminA) =>
      h.authApi.grantRole(
        {
          commandId: cmd(),
          accountId: target.accountId,
          grant: { role, scopeKind: "school", scopeId: schoolId },
        },
        md,
      );
    for (const role of ["TEACHER", "SCHOOL_ADMIN"]) {
      await expectDenied(() => grant(role, w.b.schoolId, w.adminA), w.b.schoolId);
      await expectDenied(() => grant(role, w.b.schoolId.toUpperCase(), w.adminA), w.b.schoolId);
      await expectDenied(() => grant(role, w.b.schoolId, w.officerA), w.b.schoolId);
      await grant(role, w.a.schoolId, w.adminA);
      await grant(role, w.b.schoolId, w.officerB);
    }
    await grant("TEACHER", w.b.schoolId, w.platform);
  });
});
