import { Kysely, PostgresDialect } from "kysely";
import { describe, expect, it } from "vitest";
import { createAccount } from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import { deleteAccountsOfErasures } from "../accounts/erased-accounts.js";
import { deleteAccount, disableAccount, enableAccount } from "../commands/account-status.js";
import { openClassGroup } from "../commands/class-groups.js";
import { enrollStudent, transferStudent } from "../commands/enrollment.js";
import { grantRole, revokeRole } from "../commands/grants.js";
import {
  assignStaffToSchool,
  linkGuardian,
  unassignStaffFromSchool,
} from "../commands/guardians.js";
import { erasePerson } from "../commands/people.js";
import { createPersonFormerSchools } from "../db/migrations.js";
import { PersonKind } from "../domain/person.js";
import {
  cmd,
  givenPerson,
  givenSchool,
  snapshotTables,
  useIdentity,
} from "../test-support/in-process.js";
import { READ_MODEL_TABLES, rebuildReadModels } from "./rebuild.js";

const t = useIdentity("identity_rebuild");

describe("read model rebuild", () => {
  it("replays the log into the same tables, name index and erasures included", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const b = await givenSchool(d);
    const reg = (kind: PersonKind, familyName: string) =>
      givenPerson(d, a.schoolId, kind, { familyName });
    const pupil = await reg(PersonKind.PERSON_KIND_STUDENT, "Восстановлева");
    const erased = await reg(PersonKind.PERSON_KIND_STUDENT, "Стёртова");
    const mother = await reg(PersonKind.PERSON_KIND_GUARDIAN, "Восстановлева");
    await linkGuardian(d, { commandId: cmd(), studentId: pupil, guardianId: mother });
    const open = (schoolId: string) =>
      openClassGroup(d, {
        commandId: cmd(),
        schoolId,
        academicYear: { startYear: 2026 },
        gradeLevel: 3,
        letter: "А",
        homeroomTeacherId: "",
      }).then((r) => r.classGroupId);
    const g1 = await open(a.schoolId);
    const g2 = await open(b.schoolId);
    await enrollStudent(d, {
      commandId: cmd(),
      personId: pupil,
      classGroupId: g1,
      effectiveDate: "2026-09-01",
    });
    await transferStudent(d, {
      commandId: cmd(),
      personId: pupil,
      toClassGroupId: g2,
      effectiveDate: "2026-10-01",
    });
    await erasePerson(d, { commandId: cmd(), personId: erased });
    // Staff who left a school: an assigned one (its name index goes) and the registering one.
    const staff = (personId: string, schoolId: string) => ({
      commandId: cmd(),
      personId,
      schoolId,
    });
    for (const left of [b.schoolId, a.schoolId]) {
      const teacher = await reg(PersonKind.PERSON_KIND_STAFF, "Ушедшева");
      await assignStaffToSchool(d, staff(teacher, b.schoolId));
      await unassignStaffFromSchool(d, staff(teacher, left));
    }

    // Grants: held, and granted then revoked (accounts themselves are not a read model), to a
    // teacher of A and B (school roles go to a person working at the school).
    const auth = { ...d, regionId: "74" } as AuthDeps;
    const teacherAB = await reg(PersonKind.PERSON_KIND_STAFF, "Учителева");
    await assignStaffToSchool(d, staff(teacherAB, b.schoolId));
    const { accountId } = await createAccount(auth, {
      username: "rebuild.teacher",
      password: "rebuild-password-1",
      personId: teacherAB,
    });
    const change = (fn: typeof grantRole, role: string, schoolId: string) =>
      fn(
        auth,
        { commandId: cmd(), accountId, grant: { role, scopeKind: "school", scopeId: schoolId } },
        {},
        () => {},
      );
    await change(grantRole, "TEACHER", a.schoolId);
    await change(grantRole, "SCHOOL_ADMIN", b.schoolId);
    await change(revokeRole, "SCHOOL_ADMIN", b.schoolId);
    // Disabled, and disabled then enabled again (the disabled_accounts read model).
    const { accountId: other } = await createAccount(auth, {
      username: "rebuild.other",
      password: "rebuild-password-2",
      personId: "",
    });
    await disableAccount(auth, { commandId: cmd(), accountId, reason: "приказ 1" }, {}, () => {});
    await disableAccount(auth, { commandId: cmd(), accountId: other, reason: "2" }, {}, () => {});
    await enableAccount(auth, { commandId: cmd(), accountId: other }, {}, () => {});
    // Granted, disabled, then deleted: both read models drop it.
    const { accountId: gone } = await createAccount(auth, {
      username: "rebuild.gone",
      password: "rebuild-password-3",
      personId: teacherAB,
    });
    const teach = { role: "TEACHER", scopeKind: "school", scopeId: a.schoolId };
    await grantRole(auth, { commandId: cmd(), accountId: gone, grant: teach }, {}, () => {});
    await disableAccount(auth, { commandId: cmd(), accountId: gone, reason: "3" }, {}, () => {});
    await deleteAccount(auth, { commandId: cmd(), accountId: gone, reason: "4" }, {}, () => {});

    const before = await snapshotTables(d, READ_MODEL_TABLES);
    expect((before as Record<string, unknown[]>).account_grants).toHaveLength(1);
    expect((before as Record<string, unknown[]>).disabled_accounts).toEqual([
      { account_id: accountId, reason: "приказ 1" },
    ]);
    const { events } = await rebuildReadModels(d.store, d);
    expect(events).toBeGreaterThan(10);
    expect(await snapshotTables(d, READ_MODEL_TABLES)).toEqual(before);
  });

  it("erasure deletes the person's accounts with AccountDeleted: their grants go, now and on a rebuild", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const teacher = await givenPerson(d, a.schoolId, PersonKind.PERSON_KIND_STAFF, {
      familyName: "Стираемова",
    });
    const auth = { ...d, regionId: "74" } as AuthDeps;
    const opened = await Promise.all(
      ["erased.one", "erased.two"].map((username) =>
        createAccount(auth, { username, password: `${username}-password-1`, personId: teacher }),
      ),
    );
    const ids = opened.map((o) => o.accountId);
    for (const accountId of ids) {
      const grant = { role: "TEACHER", scopeKind: "school", scopeId: a.schoolId };
      await grantRole(auth, { commandId: cmd(), accountId, grant }, {}, () => {});
    }
    await disableAccount(auth, { commandId: cmd(), accountId: ids[0]!, reason: "5" }, {}, () => {});
    const eraseCommand = cmd();
    await erasePerson(d, { commandId: eraseCommand, personId: teacher });
    // A retry replays: nothing more is written.
    await erasePerson(d, { commandId: eraseCommand, personId: teacher });

    const rowsOf = async (table: string) =>
      (await d.store.pool.query(`SELECT * FROM ${table} WHERE account_id = ANY($1::uuid[])`, [ids]))
        .rows;
    expect(await rowsOf("accounts")).toEqual([]);
    expect(await rowsOf("account_grants")).toEqual([]);
    expect(await rowsOf("disabled_accounts")).toEqual([]);
    const { rows: deleted } = await d.store.pool.query<{ stream_id: string }>(
      `SELECT stream_id FROM eventstore.events WHERE type = 'identity.v1.AccountDeleted'
         AND stream_id = ANY($1::text[]) ORDER BY stream_id`,
      [ids.map((id) => `account-${id}`)],
    );
    expect(deleted.map((r) => r.stream_id)).toEqual(ids.map((id) => `account-${id}`).sort());

    const before = await snapshotTables(d, READ_MODEL_TABLES);
    await rebuildReadModels(d.store, d);
    expect(await snapshotTables(d, READ_MODEL_TABLES)).toEqual(before);
    expect(await rowsOf("account_grants")).toEqual([]);
  });

  it("the migration fills staff_schools_left from the log as the projection does", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const b = await givenSchool(d);
    const teacher = await givenPerson(d, a.schoolId, PersonKind.PERSON_KIND_STAFF, {
      familyName: "Ушедшева",
    });
    const staff = (schoolId: string) => ({ commandId: cmd(), personId: teacher, schoolId });
    await assignStaffToSchool(d, staff(b.schoolId));
    await unassignStaffFromSchool(d, staff(b.schoolId));
    const left = await snapshotTables(d, ["staff_schools_left"]);
    expect(left).toMatchObject({
      staff_schools_left: expect.arrayContaining([{ person_id: teacher, school_id: b.schoolId }]),
    });
    // As a database migrated before the table existed: the rows come from the log.
    await d.store.pool.query("TRUNCATE staff_schools_left");
    await createPersonFormerSchools(
      new Kysely({ dialect: new PostgresDialect({ pool: d.store.pool }) }),
    );
    expect(await snapshotTables(d, ["staff_schools_left"])).toEqual(left);
  });

  it("start-up writes AccountDeleted for accounts an older erasure deleted without it", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const auth = { ...d, regionId: "74" } as AuthDeps;
    const teacher = await givenPerson(d, a.schoolId, PersonKind.PERSON_KIND_STAFF);
    const { accountId } = await createAccount(auth, {
      username: "erased.before",
      password: "erased-before-password-1",
      personId: teacher,
    });
    const admin = { role: "PLATFORM_ADMIN", scopeKind: "", scopeId: "" };
    const teach = { role: "TEACHER", scopeKind: "school", scopeId: a.schoolId };
    for (const grant of [admin, teach]) {
      await grantRole(auth, { commandId: cmd(), accountId, grant }, {}, () => {});
    }
    await disableAccount(auth, { commandId: cmd(), accountId, reason: "6" }, {}, () => {});
    const kept = await createAccount(auth, {
      username: "erased.kept",
      password: "erased-kept-password-1",
      personId: teacher,
    });
    await grantRole(
      auth,
      { commandId: cmd(), accountId: kept.accountId, grant: teach },
      {},
      () => {},
    );
    // What ErasePerson did before: the row alone.
    await d.store.pool.query("DELETE FROM accounts WHERE account_id = $1", [accountId]);

    expect(await deleteAccountsOfErasures(d)).toContain(accountId);
    const rowsOf = async (table: string, id: string) =>
      (await d.store.pool.query(`SELECT * FROM ${table} WHERE account_id = $1`, [id])).rows;
    expect(await rowsOf("account_grants", accountId)).toEqual([]);
    expect(await rowsOf("disabled_accounts", accountId)).toEqual([]);
    expect(await rowsOf("account_grants", kept.accountId)).toHaveLength(1);
    // Once repaired, nothing is found again; a rebuild agrees.
    expect(await deleteAccountsOfErasures(d)).toEqual([]);
    const before = await snapshotTables(d, READ_MODEL_TABLES);
    await rebuildReadModels(d.store, d);
    expect(await snapshotTables(d, READ_MODEL_TABLES)).toEqual(before);
  });
});
