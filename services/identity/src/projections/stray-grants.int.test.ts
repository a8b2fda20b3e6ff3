import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAccount } from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import { grantRole, revokeRole } from "../commands/grants.js";
import { assignStaffToSchool, unassignStaffFromSchool } from "../commands/guardians.js";
import { PersonKind } from "../domain/person.js";
import {
  cmd,
  givenPerson,
  givenSchool,
  snapshotTables,
  useIdentity,
} from "../test-support/in-process.js";
import { grantUnchecked } from "../test-support/unchecked-grant.js";
import { READ_MODEL_TABLES, rebuildReadModels } from "./rebuild.js";
import { strayGrants } from "./stray-grants.js";

const t = useIdentity("identity_stray_grants");

const auth = () => ({ ...t.deps, regionId: "74" }) as AuthDeps;
const teacherAt = (schoolId: string) => ({
  role: "TEACHER",
  scopeKind: "school",
  scopeId: schoolId,
});

async function account(personId = "") {
  return (
    await createAccount(auth(), {
      username: `stray.${randomUUID().slice(0, 8)}`,
      password: "a long enough password 1",
      personId,
    })
  ).accountId;
}

describe("stray school roles (npm run stray-grants)", () => {
  it("lists school roles held where the account's person does not work, and nothing else", async () => {
    const d = t.deps;
    const [a, b] = [await givenSchool(d), await givenSchool(d)];
    // A teacher of B who worked at A too, left A, and was given TEACHER@A again (before ae44c26).
    const teacher = await givenPerson(d, b.schoolId, PersonKind.PERSON_KIND_STAFF);
    await assignStaffToSchool(d, { commandId: cmd(), personId: teacher, schoolId: a.schoolId });
    const teacherAccount = await account(teacher);
    await grantRole(
      auth(),
      { commandId: cmd(), accountId: teacherAccount, grant: teacherAt(b.schoolId) },
      {},
      () => {},
    );
    await unassignStaffFromSchool(d, { commandId: cmd(), personId: teacher, schoolId: a.schoolId });
    await grantUnchecked(d, teacherAccount, a.schoolId, a.municipalityId);
    // An official's account given TEACHER@A (before accounts needed a person for it).
    const official = await account();
    await grantUnchecked(d, official, a.schoolId, a.municipalityId);

    const ours = async () =>
      (await strayGrants(d.store.pool)).filter((g) =>
        [a.schoolId, b.schoolId].includes(g.schoolId),
      );
    const found = await ours();
    expect(found).toHaveLength(2);
    expect(found).toEqual(
      expect.arrayContaining([
        {
          accountId: official,
          username: expect.any(String),
          personId: null,
          role: "TEACHER",
          schoolId: a.schoolId,
          disabled: false,
        },
        {
          accountId: teacherAccount,
          username: expect.any(String),
          personId: teacher,
          role: "TEACHER",
          schoolId: a.schoolId,
          disabled: false,
        },
      ]),
    );
    // A rebuild replays them as they were: the log holds them, so it finds them again.
    const before = await snapshotTables(d, READ_MODEL_TABLES);
    await rebuildReadModels(d.store, d);
    expect(await snapshotTables(d, READ_MODEL_TABLES)).toEqual(before);
    expect(await ours()).toEqual(found);
    // Revoked by an administrator: none left, and TEACHER@B (where they work) never listed.
    for (const accountId of [teacherAccount, official]) {
      await revokeRole(
        auth(),
        { commandId: cmd(), accountId, grant: teacherAt(a.schoolId) },
        {},
        () => {},
      );
    }
    expect(await ours()).toEqual([]);
  });
});
