import type { Queryable } from "@otmetka/eventstore";

/** A school-level role held by an account whose person does not work at that school. */
export interface StrayGrant {
  accountId: string;
  username: string | null;
  /** null: the account has no person (no school role may go to it). */
  personId: string | null;
  role: string;
  schoolId: string;
  /** The account is disabled (it holds the role, but cannot log in). */
  disabled: boolean;
}

/** The read models strayGrants reads. */
export const STRAY_GRANT_TABLES = [
  "account_grants",
  "accounts",
  "staff_schools",
  "disabled_accounts",
] as const;

/**
 * Which of STRAY_GRANT_TABLES the database lacks (none: a migrated identity database), asked
 * without creating anything: an empty list must mean "looked and found none", never "looked
 * in the wrong database".
 */
export async function missingStrayGrantTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL",
    [[...STRAY_GRANT_TABLES]],
  );
  return rows.map((r) => r.name);
}

/**
 * School roles (TEACHER, SCHOOL_ADMIN) that GrantRole would refuse today: on an account
 * without a person, or at a school the person does not work at now (`staff_schools`). Grants
 * written before those rules (a role given again at a school the person had left, before
 * ae44c26; a school role to an official's account) stay in the log and in every rebuild: this
 * finds them for an administrator to revoke (RevokeRole). Read models only, so it runs while
 * the service serves.
 */
export async function strayGrants(db: Queryable): Promise<StrayGrant[]> {
  const { rows } = await db.query<{
    account_id: string;
    username: string | null;
    person_id: string | null;
    role: string;
    school_id: string;
    disabled: boolean;
  }>(
    `SELECT g.account_id, a.username, a.person_id, g.role, g.scope_id AS school_id,
            EXISTS (SELECT 1 FROM disabled_accounts d WHERE d.account_id = g.account_id) AS disabled
     FROM account_grants g JOIN accounts a ON a.account_id = g.account_id
     WHERE g.scope_kind = 'school'
       AND NOT EXISTS (SELECT 1 FROM staff_schools s
                       WHERE s.person_id = a.person_id AND s.school_id::text = g.scope_id)
     ORDER BY g.scope_id, g.account_id, g.role`,
  );
  return rows.map((r) => ({
    accountId: r.account_id,
    username: r.username,
    personId: r.person_id,
    role: r.role,
    schoolId: r.school_id,
    disabled: r.disabled,
  }));
}
