import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { PersonKind } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import {
  getGuardianChildren,
  getPeople,
  getStaffSchools,
  searchPeople,
} from "../projections/people-queries.js";
import {
  cmd,
  expectRefused,
  givenPerson,
  givenSchool,
  locksBefore,
  useIdentity,
  whileBlockedOnStream,
} from "../test-support/in-process.js";
import {
  assignPortalId,
  assignStaffToSchool,
  grantPortalConsent,
  linkGuardian,
  unlinkGuardian,
  withdrawPortalConsent,
} from "./guardians.js";
import { closeSchool } from "./organisations.js";
import { erasePerson } from "./people.js";

const t = useIdentity("identity_guardians");
const {
  PERSON_KIND_STUDENT: STUDENT,
  PERSON_KIND_GUARDIAN: GUARDIAN,
  PERSON_KIND_STAFF: STAFF,
} = PersonKind;

const person = (schoolId: string, kind: PersonKind, familyName = "Лисицына") =>
  givenPerson(t.deps, schoolId, kind, { familyName });

describe("guardians and portal consent", () => {
  it("links guardians, records consent given by a linked guardian, and lists a guardian's children", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const [child1, child2, mother] = [
      await person(schoolId, STUDENT),
      await person(schoolId, STUDENT),
      await person(schoolId, GUARDIAN),
    ];
    const d = t.deps;
    await linkGuardian(d, { commandId: cmd(), studentId: child1, guardianId: mother });
    await linkGuardian(d, { commandId: cmd(), studentId: child2, guardianId: mother });
    expect(await getGuardianChildren(d, mother)).toEqual([child1, child2].sort());
    await grantPortalConsent(d, { commandId: cmd(), studentId: child1, guardianId: mother });
    expect((await getPeople(d, [child1], false))[0]?.portalConsent).toBe(true);
    await withdrawPortalConsent(d, { commandId: cmd(), studentId: child1, guardianId: mother });
    expect((await getPeople(d, [child1], false))[0]?.portalConsent).toBe(false);
    await unlinkGuardian(d, { commandId: cmd(), studentId: child2, guardianId: mother });
    expect(await getGuardianChildren(d, mother)).toEqual([child1]);
  });

  it("refuses links to non-guardians, duplicates and consent from strangers, changing nothing", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const child = await person(schoolId, STUDENT);
    const teacher = await person(schoolId, STAFF);
    const father = await person(schoolId, GUARDIAN);
    const stranger = await person(schoolId, GUARDIAN);
    const d = t.deps;
    await expectRefused(
      d,
      () => linkGuardian(d, { commandId: cmd(), studentId: child, guardianId: teacher }),
      "failed_precondition",
      "guardian_id",
    );
    await expectRefused(
      d,
      () => linkGuardian(d, { commandId: cmd(), studentId: teacher, guardianId: father }),
      "failed_precondition",
      "student_id",
    );
    await linkGuardian(d, { commandId: cmd(), studentId: child, guardianId: father });
    await expectRefused(
      d,
      () => linkGuardian(d, { commandId: cmd(), studentId: child, guardianId: father }),
      "failed_precondition",
      "guardian_id",
    );
    await expectRefused(
      d,
      () => grantPortalConsent(d, { commandId: cmd(), studentId: child, guardianId: stranger }),
      "failed_precondition",
      "guardian_id",
    );
    await expectRefused(
      d,
      () => withdrawPortalConsent(d, { commandId: cmd(), studentId: child, guardianId: father }),
      "failed_precondition",
      "student_id",
    );
    await expectRefused(
      d,
      () =>
        linkGuardian(d, {
          commandId: cmd(),
          studentId: child,
          guardianId: "0190e1b2-0000-7000-8000-00000000000a",
        }),
      "not_found",
      "guardian_id",
    );
  });

  it("keeps the portal id encrypted under the pupil's key: readable, then gone with erasure", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const child = await person(schoolId, STUDENT);
    const portalId = "EPGU-1234567890";
    await assignPortalId(t.deps, { commandId: cmd(), studentId: child, portalId });
    expect((await getPeople(t.deps, [child], true))[0]?.portalId).toBe(portalId);
    expect((await getPeople(t.deps, [child], false))[0]?.portalId).toBe("");
    const { rows } = await t.deps.store.pool.query(
      "SELECT count(*)::int AS n FROM eventstore.events WHERE data::text LIKE '%EPGU%'",
    );
    expect(rows[0].n).toBe(0);
    await expectRefused(
      t.deps,
      () => assignPortalId(t.deps, { commandId: cmd(), studentId: child, portalId: " " }),
      "invalid_argument",
      "portal_id",
    );
    await erasePerson(t.deps, { commandId: cmd(), personId: child });
    expect((await getPeople(t.deps, [child], true))[0]?.portalId).toBe("");
  });

  it("lists a staff member's schools and makes them searchable there", async () => {
    const a = await givenSchool(t.deps);
    const b = await givenSchool(t.deps);
    const teacher = await person(a.schoolId, STAFF, "Учителева");
    await assignStaffToSchool(t.deps, {
      commandId: cmd(),
      personId: teacher,
      schoolId: b.schoolId,
    });
    expect(await getStaffSchools(t.deps, teacher)).toEqual([a.schoolId, b.schoolId]);
    expect(await searchPeople(t.deps, b.schoolId, "учителева")).toEqual([teacher]);
    await expectRefused(
      t.deps,
      () =>
        assignStaffToSchool(t.deps, { commandId: cmd(), personId: teacher, schoolId: b.schoolId }),
      "failed_precondition",
      "school_id",
    );
  });
});

describe("a retry of AssignStaffToSchool", () => {
  it("answers as the first time, also once the school has closed", async () => {
    const a = await givenSchool(t.deps);
    const b = await givenSchool(t.deps);
    const teacher = await person(a.schoolId, STAFF);
    const input = { commandId: cmd(), personId: teacher, schoolId: b.schoolId };
    await assignStaffToSchool(t.deps, input);
    await closeSchool(t.deps, { commandId: cmd(), schoolId: b.schoolId, closedOn: "2026-12-31" });
    // Before: FAILED_PRECONDITION school_id for the assignment it had made.
    await assignStaffToSchool(t.deps, input);
    expect(await getStaffSchools(t.deps, teacher)).toEqual([a.schoolId, b.schoolId]);
  });
});

describe("portal consent in the name of an erased guardian", () => {
  it("is refused, changing nothing", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const child = await person(schoolId, STUDENT);
    const mother = await person(schoolId, GUARDIAN);
    await linkGuardian(t.deps, { commandId: cmd(), studentId: child, guardianId: mother });
    await erasePerson(t.deps, { commandId: cmd(), personId: mother });
    // Before: recorded, as consent given by a person who no longer exists for the system.
    const err = await expectRefused(
      t.deps,
      () => grantPortalConsent(t.deps, { commandId: cmd(), studentId: child, guardianId: mother }),
      "failed_precondition",
      "guardian_id",
    );
    expect(err.message).toBe("guardian_id: is erased");
  });
});

describe("a link racing the guardian's erasure", () => {
  it("is refused when the guardian was erased after the link read them", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const child = await person(schoolId, STUDENT);
    // A guardian whose stream the store locks after the child's: the link waits for the child's
    // lock (held by the test) holding neither, so the erasure commits meanwhile.
    let mother = "";
    for (let i = 0; i < 40 && mother === ""; i++) {
      const id = await person(schoolId, GUARDIAN);
      if (await locksBefore(t.deps, streamIds.person(child), streamIds.person(id))) mother = id;
    }
    const [linked, erased] = await whileBlockedOnStream(
      t.deps,
      streamIds.person(child),
      () => linkGuardian(t.deps, { commandId: cmd(), studentId: child, guardianId: mother }),
      () => erasePerson(t.deps, { commandId: cmd(), personId: mother }),
    );
    expect(erased).toBeUndefined();
    // Before: the erased person was linked to the child as their guardian.
    expect(linked).toBeInstanceOf(DomainError);
    expect({ kind: (linked as DomainError).kind, field: (linked as DomainError).field }).toEqual({
      kind: "failed_precondition",
      field: "guardian_id",
    });
    expect(await getGuardianChildren(t.deps, mother)).toEqual([]);
  });
});
