import type { Queryable } from "@otmetka/eventstore";
import type { Caller } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { transferStudent } from "../commands/enrollment.js";
import { getPeople } from "../projections/people-queries.js";
import {
  cmd,
  givenClassGroup,
  givenPupil,
  givenSchool,
  useIdentity,
} from "../test-support/in-process.js";
import { Targets } from "./authorize.js";
import { peopleAccess } from "./personal-data-access.js";

const t = useIdentity("identity_personal_data_access");

/** The pool, counting the statements sent through it (and those naming person_schools). */
function counting(db: Queryable) {
  const counter = { n: 0, personSchools: 0 };
  const wrapped: Queryable = {
    query: ((...args: Parameters<Queryable["query"]>) => {
      counter.n++;
      if (String(args[0]).includes("person_schools(")) counter.personSchools++;
      return db.query(...args);
    }) as Queryable["query"],
  };
  return { db: wrapped, counter };
}

describe("GetPeople's personal-data check of a batch", () => {
  it("asks the database a fixed number of times, however many people (full and names-only)", async () => {
    const d = t.deps;
    const [a, b] = [await givenSchool(d), await givenSchool(d)];
    const groupA = await givenClassGroup(d, { schoolId: a.schoolId, gradeLevel: 5, letter: "А" });
    const groupB = await givenClassGroup(d, { schoolId: b.schoolId, gradeLevel: 5, letter: "Б" });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await givenPupil(d, a.schoolId, groupA));
    // Two of them moved to B: A reads their names only.
    for (const personId of ids.slice(0, 2)) {
      await transferStudent(d, {
        commandId: cmd(),
        personId,
        toClassGroupId: groupB,
        effectiveDate: "2026-10-01",
      });
    }
    const caller: Caller = {
      kind: "user",
      accountId: cmd(),
      grants: [{ role: "SCHOOL_ADMIN", scope: { kind: "school", id: a.schoolId } }],
      token: "",
    };
    const { db, counter } = counting(d.store.pool);
    const { namesOnly } = await peopleAccess(db, new Targets(db, "74"), caller, ids, {
      personalData: true,
    });
    expect([...namesOnly].sort()).toEqual(ids.slice(0, 2).sort());
    expect(counter.n).toBeLessThanOrEqual(2);
  });

  it("GetPeople reads the batch's current schools once, for the check and the answer", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const groupA = await givenClassGroup(d, { schoolId: a.schoolId, gradeLevel: 5, letter: "В" });
    const ids = [await givenPupil(d, a.schoolId, groupA), await givenPupil(d, a.schoolId, groupA)];
    const caller: Caller = {
      kind: "user",
      accountId: cmd(),
      grants: [{ role: "SCHOOL_ADMIN", scope: { kind: "school", id: a.schoolId } }],
      token: "",
    };
    for (const personalData of [true, false]) {
      const { db, counter } = counting(d.store.pool);
      // As identity-service.ts answers GetPeople.
      const access = await peopleAccess(db, new Targets(db, "74"), caller, ids, { personalData });
      const onCounted = { ...d, store: { ...d.store, pool: db } } as typeof d;
      const people = await getPeople(onCounted, ids, personalData, access);
      expect(people.map((p) => p.currentSchoolIds)).toEqual([[a.schoolId], [a.schoolId]]);
      expect(counter.personSchools).toBe(1);
    }
  });
});
