import { randomUUID } from "node:crypto";
import type { Queryable } from "@otmetka/eventstore";
import type { Caller, Role, Scope } from "@otmetka/service-kit";
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

/**
 * The pool, counting the statements sent through it, those naming person_schools, and the
 * person ids of each person_former_schools lookup.
 */
function counting(db: Queryable) {
  const counter = { n: 0, personSchools: 0, formerLookups: [] as string[][] };
  const wrapped: Queryable = {
    query: ((...args: Parameters<Queryable["query"]>) => {
      counter.n++;
      if (String(args[0]).includes("person_schools(")) counter.personSchools++;
      if (String(args[0]).includes("person_former_schools(")) {
        const ids = (args[1] as unknown[] | undefined)?.[0];
        counter.formerLookups.push(Array.isArray(ids) ? [...ids].sort() : []);
      }
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

  it("looks up former schools only for people their current schools leave unread, and never for region-wide callers", async () => {
    const d = t.deps;
    const [a, b] = [await givenSchool(d), await givenSchool(d)];
    const groupA = await givenClassGroup(d, { schoolId: a.schoolId, gradeLevel: 6, letter: "А" });
    const groupB = await givenClassGroup(d, { schoolId: b.schoolId, gradeLevel: 6, letter: "Б" });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await givenPupil(d, a.schoolId, groupA));
    const moved = ids.slice(0, 2);
    for (const personId of moved) {
      await transferStudent(d, {
        commandId: cmd(),
        personId,
        toClassGroupId: groupB,
        effectiveDate: "2026-10-01",
      });
    }
    const caller = (role: Role, scope: Scope, kind: Caller["kind"] = "user"): Caller => ({
      kind,
      accountId: cmd(),
      grants: [{ role, scope }],
      token: "",
    });
    const adminA = caller("SCHOOL_ADMIN", { kind: "school", id: a.schoolId });
    const access = async (who: Caller, batch: string[], personalData = false) => {
      const { db, counter } = counting(d.store.pool);
      const got = await peopleAccess(db, new Targets(db, "74"), who, batch, { personalData });
      return { got, lookups: counter.formerLookups };
    };

    // A's admin: the pupils still at A are settled by their current school; only the two who
    // left are looked up (and read by name).
    for (const personalData of [false, true]) {
      const { got, lookups } = await access(adminA, ids, personalData);
      expect(lookups).toEqual([[...moved].sort()]);
      expect([...got.namesOnly].sort()).toEqual([...moved].sort());
      expect([...got.currentSchools.keys()].sort()).toEqual([...ids].sort());
    }
    // A batch its current schools settle (a notice re-check of A's pupil): no lookup.
    expect((await access(adminA, ids.slice(2))).lookups).toEqual([]);
    // Callers over the whole region, also with an id that names no one: no lookup, same answer.
    const unknown = randomUUID();
    for (const who of [
      caller("SERVICE", { kind: "none" }, "service"),
      caller("PLATFORM_ADMIN", { kind: "none" }),
      caller("MINISTRY_OFFICER", { kind: "region", id: "74" }),
    ]) {
      const { got, lookups } = await access(who, [...ids, unknown]);
      expect(lookups).toEqual([]);
      expect(got.namesOnly.size).toBe(0);
      expect(got.currentSchools.get(moved[0] ?? "")).toEqual([b.schoolId]);
      expect(got.currentSchools.get(ids[3] ?? "")).toEqual([a.schoolId]);
    }
  });
});
