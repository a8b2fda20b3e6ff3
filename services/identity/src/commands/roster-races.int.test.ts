import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { streamIds } from "../domain/stream-ids.js";
import { getRoster, getSubgroupRoster } from "../projections/class-group-queries.js";
import { searchPeople } from "../projections/people-queries.js";
import {
  cmd,
  givenClassGroup,
  givenPerson,
  givenPupil,
  givenSchool,
  locksBefore,
  personalData,
  untilWaiting,
  useIdentity,
  whileBlockedOnStream,
} from "../test-support/in-process.js";
import { closeClassGroup } from "./class-groups.js";
import { enrollStudent, transferStudent } from "./enrollment.js";
import { closeSchool } from "./organisations.js";
import { changePersonalData } from "./people.js";
import { addSubgroupMember, openSubgroup } from "./subgroups.js";

const t = useIdentity("identity_roster_races");

/**
 * A school with a class group and a pupil registered at `pupilSchoolId` (or there), made again
 * until the store locks the pupil's stream before the school's and the class group's: the
 * command then waits for the pupil's lock (held by the test) holding neither of theirs, so a
 * close commits meanwhile.
 */
async function schoolGroupAndPupil(gradeLevel: number, pupilSchoolId?: string) {
  for (let i = 0; i < 40; i++) {
    const { schoolId } = await givenSchool(t.deps);
    const classGroupId = await givenClassGroup(t.deps, { schoolId, gradeLevel, letter: "А" });
    const personId = await givenPerson(t.deps, pupilSchoolId ?? schoolId);
    const pupil = streamIds.person(personId);
    if (
      (await locksBefore(t.deps, pupil, streamIds.school(schoolId))) &&
      (await locksBefore(t.deps, pupil, streamIds.classGroup(classGroupId)))
    )
      return { schoolId, classGroupId, personId };
  }
  throw new Error("no pupil whose stream sorts first");
}

function expectRefusedAs(outcome: unknown, field: string, rule: RegExp) {
  expect(outcome).toBeInstanceOf(DomainError);
  const e = outcome as DomainError;
  expect({ kind: e.kind, field: e.field }).toEqual({ kind: "failed_precondition", field });
  expect(e.message).toMatch(rule);
}

describe("an enrollment racing the close of its class group or school", () => {
  it("is refused when the class group closed after the enrollment read it", async () => {
    const { classGroupId, personId } = await schoolGroupAndPupil(5);
    const [enrolled, closed] = await whileBlockedOnStream(
      t.deps,
      streamIds.person(personId),
      () =>
        enrollStudent(t.deps, {
          commandId: cmd(),
          personId,
          classGroupId,
          effectiveDate: "2026-09-01",
        }),
      () => closeClassGroup(t.deps, { commandId: cmd(), classGroupId }),
    );
    expect(closed).toBeUndefined();
    // Before: the pupil was enrolled into the class group closed meanwhile.
    expectRefusedAs(enrolled, "class_group_id", /is closed/);
    expect(await getRoster(t.deps.store.pool, classGroupId, "2026-10-01")).toEqual([]);
  });

  it("is refused when the school closed after a transfer read it", async () => {
    const from = await givenSchool(t.deps);
    const fromGroup = await givenClassGroup(t.deps, {
      schoolId: from.schoolId,
      gradeLevel: 6,
      letter: "А",
    });
    const to = await schoolGroupAndPupil(6, from.schoolId);
    const personId = to.personId;
    await enrollStudent(t.deps, {
      commandId: cmd(),
      personId,
      classGroupId: fromGroup,
      effectiveDate: "2026-09-01",
    });
    const [transferred, closed] = await whileBlockedOnStream(
      t.deps,
      streamIds.person(personId),
      () =>
        transferStudent(t.deps, {
          commandId: cmd(),
          personId,
          toClassGroupId: to.classGroupId,
          effectiveDate: "2026-11-02",
        }),
      () =>
        closeSchool(t.deps, { commandId: cmd(), schoolId: to.schoolId, closedOn: "2026-11-01" }),
    );
    expect(closed).toBeUndefined();
    // Before: the pupil was transferred into a school closed since the day before.
    expectRefusedAs(transferred, "to_class_group_id", /school closed since 2026-11-01/);
    expect(await getRoster(t.deps.store.pool, fromGroup, "2026-11-10")).toEqual([personId]);
    expect(await getRoster(t.deps.store.pool, to.classGroupId, "2026-11-10")).toEqual([]);
  });
});

describe("a subgroup member added while the pupil leaves the class group", () => {
  it("is refused when a transfer before the membership's first day committed meanwhile", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const from = await givenClassGroup(t.deps, { schoolId, gradeLevel: 7, letter: "А" });
    const to = await givenClassGroup(t.deps, { schoolId, gradeLevel: 7, letter: "Б" });
    const personId = await givenPupil(t.deps, schoolId, from);
    // A subgroup whose stream the store locks before the pupil's: the addition waits for the
    // subgroup's lock (held by the test) holding none, so the transfer commits meanwhile.
    let subgroupId = "";
    for (let i = 0; i < 40 && subgroupId === ""; i++) {
      const opened = await openSubgroup(t.deps, {
        commandId: cmd(),
        classGroupId: from,
        subjectId: "english",
        name: `Группа ${i}`,
      });
      const first = await locksBefore(
        t.deps,
        streamIds.subgroup(opened.subgroupId),
        streamIds.person(personId),
      );
      if (first) subgroupId = opened.subgroupId;
    }
    const [added, transferred] = await whileBlockedOnStream(
      t.deps,
      streamIds.subgroup(subgroupId),
      () =>
        addSubgroupMember(t.deps, {
          commandId: cmd(),
          subgroupId,
          personId,
          effectiveDate: "2026-11-10",
        }),
      () =>
        transferStudent(t.deps, {
          commandId: cmd(),
          personId,
          toClassGroupId: to,
          effectiveDate: "2026-11-02",
        }),
    );
    expect(transferred).toBeUndefined();
    // Before: the pupil became a member of a subgroup of the class group they had left.
    expectRefusedAs(added, "person_id", /is not in the subgroup's class group on 2026-11-10/);
    expect(await getSubgroupRoster(t.deps.store.pool, subgroupId, "2026-11-10")).toEqual([]);
  });
});

describe("a name change racing an enrollment into another school", () => {
  it("keeps the pupil findable by the new name at the school they joined", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const b = await givenSchool(d);
    const groupAtB = await givenClassGroup(d, { schoolId: b.schoolId, gradeLevel: 8, letter: "А" });
    const personId = await givenPerson(d, a.schoolId);
    // Both read the data key: holding its table, the enrollment waits inside its append (after
    // ChangePersonalData's read of the pupil) and the change before its own.
    const holder = await d.store.pool.connect();
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE person_keys IN ACCESS EXCLUSIVE MODE");
    const settled = { enroll: false, change: false };
    const outcome = (p: Promise<unknown>) =>
      p.then(
        (v) => v,
        (e: unknown) => e,
      );
    const enrolled = outcome(
      enrollStudent(d, {
        commandId: cmd(),
        personId,
        classGroupId: groupAtB,
        effectiveDate: "2026-09-01",
      }),
    );
    void enrolled.finally(() => (settled.enroll = true));
    await untilWaiting(d, 1, () => settled.enroll);
    const changed = outcome(
      changePersonalData(d, {
        commandId: cmd(),
        personId,
        personalData: personalData({ familyName: "Новикова" }),
      }),
    );
    void changed.finally(() => (settled.change = true));
    await untilWaiting(d, 2, () => settled.change);
    await holder.query("ROLLBACK");
    holder.release();
    expect([await enrolled, await changed]).toEqual([undefined, undefined]);
    // Before: the change re-indexed the schools it had read (A only) and dropped B's tokens.
    expect(await searchPeople(d, b.schoolId, "Новикова")).toEqual([personId]);
    expect(await searchPeople(d, a.schoolId, "Новикова")).toEqual([personId]);
  });
});
