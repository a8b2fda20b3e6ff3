import { randomUUID } from "node:crypto";
import { STREAM_LOCK_CLASS } from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { grantRole } from "../commands/grants.js";
import { assignStaffToSchool, unassignStaffFromSchool } from "../commands/guardians.js";
import { PersonKind } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import {
  ALL_TABLES,
  cmd,
  expectRefused,
  givenPerson,
  givenSchool,
  locksBefore,
  snapshotTables,
  untilWaiting,
  useIdentity,
} from "../test-support/in-process.js";
import { createAccount } from "./accounts.js";
import type { AuthDeps } from "./deps.js";

const t = useIdentity("identity_leave_grant_race");

const teacherGrant = (schoolId: string) => ({
  role: "TEACHER",
  scopeKind: "school",
  scopeId: schoolId,
});

/** A teacher registered at B and assigned to A, with an account holding no role: the ids. */
async function teacherOfAandB() {
  const d = t.deps;
  const auth = { ...d, regionId: "74" } as AuthDeps;
  const a = await givenSchool(d);
  const b = await givenSchool(d);
  const personId = await givenPerson(d, b.schoolId, PersonKind.PERSON_KIND_STAFF);
  await assignStaffToSchool(d, { commandId: cmd(), personId, schoolId: a.schoolId });
  const { accountId } = await createAccount(auth, {
    username: `race.${randomUUID().slice(0, 8)}`,
    password: "a long enough password 1",
    personId,
  });
  const grant = (schoolId: string, commandId = cmd()) =>
    grantRole(auth, { commandId, accountId, grant: teacherGrant(schoolId) }, {}, () => {});
  const leave = () =>
    unassignStaffFromSchool(d, { commandId: cmd(), personId, schoolId: a.schoolId });
  return { a, b, personId, accountId, grant, leave };
}

/** Roles the account holds at a school its person does not work at now. */
async function rolesWhereNotWorking(accountId: string, personId: string) {
  const { rows } = await t.deps.store.pool.query(
    `SELECT role, scope_id FROM account_grants g
     WHERE g.account_id = $1 AND g.scope_kind = 'school'
       AND NOT EXISTS (SELECT 1 FROM staff_schools s
                        WHERE s.person_id = $2 AND s.school_id = g.scope_id::uuid)`,
    [accountId, personId],
  );
  return rows;
}

/** Whether the store takes the account stream's lock before the person stream's. */
const accountLocksFirst = (accountId: string, personId: string) =>
  locksBefore(t.deps, streamIds.account(accountId), streamIds.person(personId));

/**
 * Runs `first` until it waits for the stream lock another transaction holds, then `second`
 * until it commits or waits too, then lets both finish: their outcomes.
 */
async function interleaved(
  lockedStream: string,
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
) {
  const holder = await t.deps.store.pool.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
    STREAM_LOCK_CLASS,
    lockedStream,
  ]);
  const settled = { first: false, second: false };
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => "done",
      (e: unknown) => e,
    );
  const one = outcome(first());
  void one.finally(() => (settled.first = true));
  await untilWaiting(t.deps, 1, () => settled.first);
  const two = outcome(second());
  void two.finally(() => (settled.second = true));
  await untilWaiting(t.deps, 2, () => settled.second);
  await holder.query("ROLLBACK");
  holder.release();
  return [await one, await two];
}

/** The grant either lost to the leave (refused naming the school) or was revoked by it. */
function expectGrantDoneOrRefused(outcome: unknown) {
  if (outcome === "done") return;
  expect(outcome).toBeInstanceOf(DomainError);
  expect({ kind: (outcome as DomainError).kind, field: (outcome as DomainError).field }).toEqual({
    kind: "failed_precondition",
    field: "grant.scope_id",
  });
}

describe("a grant at a school and the staff member leaving it, concurrently", () => {
  it("a grant decided just before the leave commits never outlives it", async () => {
    const w = await teacherOfAandB();
    // The account stream's lock held: the grant waits in its append after it has decided
    // (the teacher still works at A); the leave runs in that gap.
    const [grant, leave] = await interleaved(
      streamIds.account(w.accountId),
      () => w.grant(w.a.schoolId),
      w.leave,
    );
    expect(leave).toBe("done");
    expectGrantDoneOrRefused(grant);
    expect(await rolesWhereNotWorking(w.accountId, w.personId)).toEqual([]);
  });

  it("a leave decided just before a grant commits still ends the role (the inverse)", async () => {
    const w = await teacherOfAandB();
    // The person stream's lock held: the leave waits in its append after it has decided (no
    // role at A to revoke); the grant runs in that gap.
    const [leave, grant] = await interleaved(streamIds.person(w.personId), w.leave, () =>
      w.grant(w.a.schoolId),
    );
    expect(leave).toBe("done");
    expectGrantDoneOrRefused(grant);
    expect(await rolesWhereNotWorking(w.accountId, w.personId)).toEqual([]);
  });

  it("an account opened and granted the role after the leave planned loses it too", async () => {
    const w = await teacherOfAandB();
    const auth = { ...t.deps, regionId: "74" } as AuthDeps;
    const openAccount = async () =>
      (
        await createAccount(auth, {
          username: `race.${randomUUID().slice(0, 8)}`,
          password: "a long enough password 1",
          personId: w.personId,
        })
      ).accountId;
    // The store locks an append's streams in hashtext order: the held account must come
    // before the person's stream, or the leave would hold that lock while it waits and the
    // grant below could not commit. Open accounts until one does (each a coin toss).
    let held = w.accountId;
    for (let i = 0; i < 20 && !(await accountLocksFirst(held, w.personId)); i++) {
      held = await openAccount();
    }
    expect(await accountLocksFirst(held, w.personId)).toBe(true);
    // That account's stream lock held: the leave has planned (the accounts so far) and waits
    // in its append, holding no lock of the person's stream. Meanwhile another account is
    // opened for the person and granted TEACHER@A (they still work there); it commits, moving
    // no stream the leave read.
    const holder = await t.deps.store.pool.connect();
    await holder.query("BEGIN");
    // Idle while the account is opened (argon2) and granted: the pool's 10 s idle timeout
    // would end the session, and the lock with it, on a loaded machine.
    await holder.query("SET LOCAL idle_in_transaction_session_timeout = 0");
    await holder.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
      STREAM_LOCK_CLASS,
      streamIds.account(held),
    ]);
    let settled = false;
    const leave = w.leave().then(
      () => "done",
      (e: unknown) => e,
    );
    void leave.finally(() => (settled = true));
    await untilWaiting(t.deps, 1, () => settled);
    const second = await openAccount();
    await grantRole(
      auth,
      { commandId: cmd(), accountId: second, grant: teacherGrant(w.a.schoolId) },
      {},
      () => {},
    );
    await holder.query("ROLLBACK");
    holder.release();
    expect(await leave).toBe("done");
    expect(await rolesWhereNotWorking(second, w.personId)).toEqual([]);
    expect(await rolesWhereNotWorking(w.accountId, w.personId)).toEqual([]);
  });

  it("a school-level role goes only to a person working at that school", async () => {
    const w = await teacherOfAandB();
    await w.grant(w.a.schoolId);
    await w.leave();
    await expectRefused(
      t.deps,
      () => w.grant(w.a.schoolId),
      "failed_precondition",
      "grant.scope_id",
    );
    const elsewhere = await givenSchool(t.deps);
    await expectRefused(
      t.deps,
      () => w.grant(elsewhere.schoolId),
      "failed_precondition",
      "grant.scope_id",
    );
    // Where they still work, granted; a retry changes nothing.
    const commandId = cmd();
    await w.grant(w.b.schoolId, commandId);
    const before = await snapshotTables(t.deps, ALL_TABLES);
    await w.grant(w.b.schoolId, commandId);
    expect(await snapshotTables(t.deps, ALL_TABLES)).toEqual(before);
    expect(await rolesWhereNotWorking(w.accountId, w.personId)).toEqual([]);
  });
});
