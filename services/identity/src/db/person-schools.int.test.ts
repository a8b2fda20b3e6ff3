import type { PoolClient } from "pg";
import { describe, expect, it } from "vitest";
import { createAccount, listAccounts } from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import { assignStaffToSchool, linkGuardian } from "../commands/guardians.js";
import { PersonKind } from "../domain/person.js";
import {
  cmd,
  givenClassGroup,
  givenPerson,
  givenPupil,
  givenSchool,
  useIdentity,
} from "../test-support/in-process.js";

/*
 * person_schools runs for every person of every GetPeople call (and of each authorization of
 * one): it must read a person's own rows through the indexes, never the whole enrollments
 * table. enable_seqscan = off stands in for a large table, where the planner picks an index
 * whenever the query allows one; pg_stat_xact_user_tables counts the rows the call read.
 */
const t = useIdentity("identity_person_schools");

/**
 * What `run` answers and the rows it read from each of `tables`, in one transaction under
 * enable_seqscan = off (rolled back).
 */
async function rowsRead<T>(tables: string[], run: (db: PoolClient) => Promise<T>) {
  const client = await t.deps.store.pool.connect();
  const counters = async () => {
    const { rows } = await client.query<{ relname: string; n: string }>(
      `SELECT relname, (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS n
       FROM pg_stat_xact_user_tables WHERE relname = ANY($1)`,
      [tables],
    );
    return Object.fromEntries(
      tables.map((n) => [n, Number(rows.find((r) => r.relname === n)?.n ?? 0)]),
    );
  };
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL enable_seqscan = off");
    // The backend's counters may still hold earlier transactions' rows: a difference, then.
    const before = await counters();
    const result = await run(client);
    const after = await counters();
    const read = Object.fromEntries(tables.map((n) => [n, after[n]! - before[n]!]));
    return { result, read };
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}

/** The schools `sql` answers for the person, and the enrollments rows it read for that. */
async function enrollmentRowsRead(sql: string, personId: string) {
  const { result, read } = await rowsRead(["enrollments"], async (db) => {
    const { rows } = await db.query<{ school_id: string }>(sql, [personId]);
    return rows.map((r) => r.school_id).sort();
  });
  return { schools: result, read: read.enrollments! };
}

describe("person_schools and person_former_schools read one person's rows", () => {
  it("a pupil, a guardian of children at two schools, a teacher of two schools", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const b = await givenSchool(d);
    const groupA = await givenClassGroup(d, { schoolId: a.schoolId, gradeLevel: 5, letter: "А" });
    const groupB = await givenClassGroup(d, { schoolId: b.schoolId, gradeLevel: 6, letter: "Б" });
    // Others' stays, which a call about one person must not read.
    for (let i = 0; i < 6; i++) await givenPupil(d, a.schoolId, groupA);
    const pupil = await givenPupil(d, a.schoolId, groupA);
    const sibling = await givenPupil(d, b.schoolId, groupB);
    const guardian = await givenPerson(d, a.schoolId, PersonKind.PERSON_KIND_GUARDIAN);
    for (const studentId of [pupil, sibling]) {
      await linkGuardian(d, { commandId: cmd(), studentId, guardianId: guardian });
    }
    const teacher = await givenPerson(d, a.schoolId, PersonKind.PERSON_KIND_STAFF);
    await assignStaffToSchool(d, { commandId: cmd(), personId: teacher, schoolId: b.schoolId });
    const both = [a.schoolId, b.schoolId].sort();

    // The person's own rows (a guardian: each child's stay), never the others' six stays.
    const expectRead = async (sql: string, personId: string, schools: string[], most: number) => {
      const out = await enrollmentRowsRead(sql, personId);
      expect(out.schools).toEqual(schools);
      expect(out.read).toBeLessThanOrEqual(most);
    };
    const current = "SELECT person_schools($1) AS school_id";
    await expectRead(current, pupil, [a.schoolId], 1);
    await expectRead(current, guardian, both, 2);
    await expectRead(current, teacher, both, 0);
    // The pupil's own stay, then person_schools' (the registering school is current).
    await expectRead("SELECT person_former_schools($1) AS school_id", pupil, [], 2);
  });
});

describe("ListAccounts of a school reads that school's rows", () => {
  it("not every person, stay, staff row and guardian link of the region", async () => {
    const d = t.deps;
    const auth = { ...d, regionId: "74" } as AuthDeps;
    const [a, b] = [await givenSchool(d), await givenSchool(d)];
    const groupB = await givenClassGroup(d, { schoolId: b.schoolId, gradeLevel: 7, letter: "В" });
    // Another school's people, which a page of A's must not read.
    for (let i = 0; i < 8; i++) {
      const personId = await givenPupil(d, b.schoolId, groupB);
      const guardianId = await givenPerson(d, b.schoolId, PersonKind.PERSON_KIND_GUARDIAN);
      await linkGuardian(d, { commandId: cmd(), studentId: personId, guardianId });
      await givenPerson(d, b.schoolId, PersonKind.PERSON_KIND_STAFF);
    }
    const teacher = await givenPerson(d, a.schoolId, PersonKind.PERSON_KIND_STAFF);
    const { accountId } = await createAccount(auth, {
      username: `list.${cmd().slice(0, 8)}`,
      password: "a long enough password 1",
      personId: teacher,
    });
    const tables = ["people", "enrollments", "staff_schools", "guardian_links"];
    const { result: listed, read } = await rowsRead(tables, async (client) => {
      const onClient = { ...auth, store: { ...auth.store, pool: client } } as unknown as AuthDeps;
      const page = await listAccounts(
        onClient,
        { schoolId: a.schoolId },
        { pageSize: 10, pageToken: "" },
      );
      return page.accounts.map((x) => x.accountId);
    });
    expect(listed).toEqual([accountId]);
    // A's one teacher: a row or two per table, not B's eight of each.
    for (const table of tables) expect(read[table], table).toBeLessThanOrEqual(2);
  });
});
