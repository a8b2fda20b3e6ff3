import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { erasePerson } from "../commands/people.js";
import { PersonKind } from "../domain/person.js";
import { givenPerson, givenSchool, untilWaiting, useIdentity } from "../test-support/in-process.js";
import { createAccount } from "./accounts.js";
import type { AuthDeps } from "./deps.js";

const t = useIdentity("identity_erasure_race");

describe("an account opened while its person is erased", () => {
  it("never outlives the erasure: no account of an erased person remains", async () => {
    const d = t.deps;
    const auth = { ...d, regionId: "74" } as AuthDeps;
    const a = await givenSchool(d);
    const personId = await givenPerson(d, a.schoolId, PersonKind.PERSON_KIND_STAFF);
    const username = `race.${randomUUID().slice(0, 8)}`;
    // Another transaction holds the username (uncommitted), so CreateAccount's insert waits
    // after it has checked the person: the erasure then runs in that gap.
    const holder = await d.store.pool.connect();
    await holder.query("BEGIN");
    await holder.query(
      `INSERT INTO accounts (account_id, kind, username, secret_hash, created_at)
       VALUES ($1, 'user', $2, 'x', now())`,
      [randomUUID(), username],
    );
    const settled = { create: false, erase: false };
    const create = createAccount(auth, {
      username,
      password: "a long enough password 1",
      personId,
    }).then(
      (r) => r,
      (e: unknown) => e,
    );
    void create.finally(() => (settled.create = true));
    await untilWaiting(t.deps, 1, () => settled.create);
    const erase = erasePerson(d, { commandId: randomUUID(), personId });
    void erase.finally(() => (settled.erase = true));
    // The erasure commits at once, or waits for the account being opened.
    await untilWaiting(t.deps, 2, () => settled.erase);
    await holder.query("ROLLBACK");
    holder.release();
    await erase;
    await create;
    const { rows } = await d.store.pool.query(
      "SELECT account_id FROM accounts WHERE person_id = $1",
      [personId],
    );
    expect(rows).toEqual([]);
  });
});
