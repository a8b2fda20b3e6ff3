import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAccount } from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import { cmd, expectRefused, givenSchool, useIdentity } from "../test-support/in-process.js";
import { grantUnchecked } from "../test-support/unchecked-grant.js";
import { grantRole, revokeRole } from "./grants.js";

const t = useIdentity("identity_grants");

const auth = () => ({ ...t.deps, regionId: "74" }) as AuthDeps;
const schoolGrant = (role: string, schoolId: string) => ({
  role,
  scopeKind: "school",
  scopeId: schoolId,
});

async function account(personId = "") {
  return (
    await createAccount(auth(), {
      username: `grants.${randomUUID().slice(0, 8)}`,
      password: "a long enough password 1",
      personId,
    })
  ).accountId;
}

const grant = (accountId: string, g: { role: string; scopeKind: string; scopeId: string }) =>
  grantRole(auth(), { commandId: cmd(), accountId, grant: g }, {}, () => {});

describe("school roles and accounts without a person", () => {
  it("refuses TEACHER and SCHOOL_ADMIN at a school to an account with no person, naming account_id", async () => {
    const a = await givenSchool(t.deps);
    const official = await account();
    for (const role of ["TEACHER", "SCHOOL_ADMIN"]) {
      const err = await expectRefused(
        t.deps,
        () => grant(official, schoolGrant(role, a.schoolId)),
        "failed_precondition",
        "account_id",
      );
      expect(err.message).toMatch(/has no person/);
    }
    // Roles above a school still go to such accounts (officials are not staff of a school).
    await grant(official, {
      role: "MUNICIPAL_OFFICER",
      scopeKind: "municipality",
      scopeId: a.municipalityId,
    });
  });

  it("still revokes a school role such an account was given before the rule", async () => {
    const a = await givenSchool(t.deps);
    const official = await account();
    await grantUnchecked(t.deps, official, a.schoolId, a.municipalityId);
    const revoke = () =>
      revokeRole(
        auth(),
        { commandId: cmd(), accountId: official, grant: schoolGrant("TEACHER", a.schoolId) },
        {},
        () => {},
      );
    await revoke();
    const { rows } = await t.deps.store.pool.query(
      "SELECT * FROM account_grants WHERE account_id = $1",
      [official],
    );
    expect(rows).toEqual([]);
  });
});
