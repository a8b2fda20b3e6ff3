import { randomUUID } from "node:crypto";
import { inOwnTransaction, type Queryable, WrongExpectedVersion } from "@otmetka/eventstore";
import { revokeAccess } from "@otmetka/messaging";
import { requirePageSize } from "../audit/query.js";
import { invalidInput, notFound, refused } from "../domain/errors.js";
import { requirePasswordPolicy, requireUsername } from "../domain/password-policy.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireId } from "../domain/validators.js";
import type { AuthDeps } from "./deps.js";
import { hashPassword, hashServiceSecret, newSecret, verifyPassword } from "./secrets.js";

export interface AccountRow {
  account_id: string;
  kind: "user" | "service";
  username: string | null;
  service_name: string | null;
  person_id: string | null;
  secret_hash: string;
  failed_attempts: number;
  lockouts: number;
  locked_until: Date | null;
  created_at: Date;
  last_login_at: Date | null;
}

export async function findAccount(
  db: Queryable,
  accountId: string,
): Promise<AccountRow | undefined> {
  const { rows } = await db.query<AccountRow>("SELECT * FROM accounts WHERE account_id = $1", [
    accountId,
  ]);
  return rows[0];
}

export async function requireAccount(
  db: Queryable,
  field: string,
  raw: string,
): Promise<AccountRow> {
  const id = requireId(field, raw);
  const row = await findAccount(db, id);
  if (!row) throw notFound(field, "account", id);
  return row;
}

/** The accounts of a person, by id. */
export async function accountsOfPerson(db: Queryable, personId: string): Promise<string[]> {
  const { rows } = await db.query<{ account_id: string }>(
    "SELECT account_id FROM accounts WHERE person_id = $1 ORDER BY account_id",
    [personId],
  );
  return rows.map((r) => r.account_id);
}

/**
 * For a command that planned on a person's accounts (read from the table, not a stream): the
 * accounts it finds inside its append's transaction, after the stream locks, against those it
 * planned on. An account opened since was decided on by no one, so WrongExpectedVersion makes
 * the command plan again, as a stream that moved would (erasure, leaving a school).
 */
export function requireNoAccountSincePlan(planned: readonly string[], now: readonly string[]) {
  const late = now.find((id) => !planned.includes(id));
  if (late) throw new WrongExpectedVersion(streamIds.account(late), "no_stream", 0);
}

/** The account's current grants as role claims, from the read model. */
export async function grantsOf(db: Queryable, accountId: string): Promise<string[]> {
  return (await grantsOfAccounts(db, [accountId])).get(accountId) ?? [];
}

/** Grants of several accounts in one query (a page of ListAccounts), each list ordered. */
export async function grantsOfAccounts(
  db: Queryable,
  accountIds: readonly string[],
): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{
    account_id: string;
    role: string;
    scope_kind: string;
    scope_id: string;
  }>(
    `SELECT account_id, role, scope_kind, scope_id FROM account_grants
     WHERE account_id = ANY($1::uuid[]) ORDER BY role, scope_kind, scope_id`,
    [accountIds],
  );
  const byAccount = new Map<string, string[]>();
  for (const r of rows) {
    // The claim's one format (service-kit parseRoleClaim reads it back).
    const claim = r.scope_kind === "" ? r.role : `${r.role}@${r.scope_kind}:${r.scope_id}`;
    byAccount.set(r.account_id, [...(byAccount.get(r.account_id) ?? []), claim]);
  }
  return byAccount;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "23505";

/**
 * A user account: username (unique, lower-case), password under the policy, and the person
 * it belongs to (must exist and not be erased) or none for a platform account.
 */
export async function createAccount(
  deps: AuthDeps,
  input: { username: string; password: string; personId: string },
): Promise<{ accountId: string }> {
  const username = requireUsername("username", input.username);
  const password = requirePasswordPolicy("password", input.password, username);
  const personId = input.personId === "" ? null : requireId("person_id", input.personId);
  const secretHash = await hashPassword(password);
  const accountId = randomUUID();
  try {
    await inOwnTransaction(deps.store.pool, async (client) => {
      if (personId !== null) {
        // FOR SHARE until the insert commits: an erasure (it updates this row) waits for the
        // account and then deletes it with the person's others, or has committed and the
        // person reads erased here. A check without the lock let an account be opened after
        // the erasure had deleted the person's accounts.
        const { rows } = await client.query<{ erased: boolean }>(
          "SELECT erased FROM people WHERE person_id = $1 FOR SHARE",
          [personId],
        );
        if (!rows[0]) throw notFound("person_id", "person", personId);
        if (rows[0].erased) throw refused("person_id", "the person is erased");
      }
      await client.query(
        `INSERT INTO accounts (account_id, kind, username, person_id, secret_hash, created_at)
         VALUES ($1, 'user', $2, $3, $4, $5)`,
        [accountId, username, personId, secretHash, deps.clock.now()],
      );
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw refused("username", "is already taken");
    throw err;
  }
  return { accountId };
}

/**
 * Sets a new password (policy applies) and ends every session of the account: its refresh
 * families are revoked and its access tokens issued until now are put on the revocation list
 * (a changed password often follows a compromise). When `currentPassword` is required it must
 * match.
 */
export async function changePassword(
  deps: AuthDeps,
  input: { accountId: string; currentPassword: string; newPassword: string },
  requireCurrent: boolean,
): Promise<void> {
  const account = await requireAccount(deps.store.pool, "account_id", input.accountId);
  if (account.kind !== "user") throw refused("account_id", "is a service account (no password)");
  if (requireCurrent && !(await verifyPassword(account.secret_hash, input.currentPassword))) {
    throw refused("current_password", "does not match");
  }
  const password = requirePasswordPolicy("new_password", input.newPassword, account.username ?? "");
  const secretHash = await hashPassword(password);
  const now = deps.clock.now();
  // No event records a password change, so no consumer can write the entry later: it is put
  // first. A failed put changes nothing (the caller retries); a crash after it only ends the
  // sessions early. A login in the milliseconds before the commit has its family revoked by
  // the update below, and its access token refused unless issued in a later second.
  await revokeAccess(deps.revocations, account.account_id, {
    revokedAt: now.getTime(),
    reason: "password_changed",
  });
  // The row first (a login holds it from its password check to its new family), then the
  // families in a later statement: it sees a family a login committed while this waited, which
  // one statement's snapshot, taken before the wait, did not. A login waiting behind this sees
  // the new hash.
  await inOwnTransaction(deps.store.pool, async (c) => {
    await c.query(
      `UPDATE accounts SET secret_hash = $2, failed_attempts = 0, lockouts = 0, locked_until = NULL
       WHERE account_id = $1`,
      [account.account_id, secretHash],
    );
    await c.query(
      `UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'password changed'
       WHERE account_id = $1 AND revoked_at IS NULL`,
      [account.account_id, now],
    );
  });
}

/** A service account; the secret is returned here once and kept only as a hash. */
export async function createServiceAccount(
  deps: AuthDeps,
  input: { serviceName: string },
): Promise<{ clientId: string; clientSecret: string }> {
  const serviceName = input.serviceName.trim();
  if (!/^[a-z][a-z0-9-]{1,39}$/.test(serviceName)) {
    throw invalidInput(
      "service_name",
      "must be 2-40 characters of a-z, 0-9 or '-', starting with a letter",
    );
  }
  const clientId = randomUUID();
  const clientSecret = newSecret();
  await deps.store.pool.query(
    `INSERT INTO accounts (account_id, kind, service_name, secret_hash, created_at)
     VALUES ($1, 'service', $2, $3, $4)`,
    [clientId, serviceName, hashServiceSecret(clientSecret), deps.clock.now()],
  );
  return { clientId, clientSecret };
}

/** The reason an account was disabled (DisableAccount), or undefined while it is enabled. */
export async function disabledReason(
  db: Queryable,
  accountId: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ reason: string }>(
    "SELECT reason FROM disabled_accounts WHERE account_id = $1",
    [accountId],
  );
  return rows[0]?.reason;
}

export async function getAccount(deps: AuthDeps, accountId: string) {
  const row = await requireAccount(deps.store.pool, "account_id", accountId);
  const grants = await grantsOf(deps.store.pool, row.account_id);
  const reason = await disabledReason(deps.store.pool, row.account_id);
  return {
    accountId: row.account_id,
    kind: row.kind,
    personId: row.person_id ?? "",
    serviceName: row.service_name ?? "",
    grants,
    username: row.username ?? "",
    disabled: reason !== undefined,
    disabledReason: reason ?? "",
  };
}

export interface AccountSummary {
  accountId: string;
  personId: string;
  username: string;
  grants: string[];
  disabled: boolean;
  createdAt: Date;
  lastLoginAt: Date | undefined;
}

/** Which accounts to list: those of a school's people, or of one person. */
export type AccountsOf = { schoolId: string } | { personId: string };

// A keyset position (the last account id returned); opaque to clients.
function afterToken(token: string): string | null {
  if (token === "") return null;
  const id = Buffer.from(token, "base64url").toString("utf8");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw invalidInput("page_token", "is not a token this service returned");
  }
  return id;
}

/**
 * One page of user accounts, by account id: of the people a school holds now (SQL
 * `person_schools`, as Targets.person) or of one person.
 */
export async function listAccounts(
  deps: AuthDeps,
  of: AccountsOf,
  page: { pageSize: number; pageToken: string },
): Promise<{ accounts: AccountSummary[]; nextPageToken: string }> {
  const limit = requirePageSize(page.pageSize);
  const after = afterToken(page.pageToken);
  const pool = deps.store.pool;
  const people =
    "schoolId" in of
      ? // Everyone the school ever had, then only those it holds now (person_schools).
        `SELECT c.person_id FROM (
           SELECT person_id FROM people WHERE school_id = $1
           UNION SELECT person_id FROM enrollments WHERE school_id = $1
           UNION SELECT person_id FROM staff_schools WHERE school_id = $1
           UNION SELECT g.guardian_id FROM guardian_links g
             JOIN enrollments e ON e.person_id = g.student_id WHERE e.school_id = $1
         ) c WHERE $1 IN (SELECT person_schools(c.person_id))`
      : "SELECT $1::uuid";
  const { rows } = await pool.query<AccountRow & { disabled: boolean }>(
    `SELECT a.*, d.account_id IS NOT NULL AS disabled
     FROM accounts a LEFT JOIN disabled_accounts d USING (account_id)
     WHERE a.kind = 'user' AND a.person_id IN (${people})
       AND ($2::uuid IS NULL OR a.account_id > $2)
     ORDER BY a.account_id LIMIT $3`,
    ["schoolId" in of ? of.schoolId : of.personId, after, limit + 1],
  );
  const shown = rows.slice(0, limit);
  // One query for the page's grants, not one per account.
  const grants = await grantsOfAccounts(
    pool,
    shown.map((r) => r.account_id),
  );
  const accounts = shown.map((r) => ({
    accountId: r.account_id,
    personId: r.person_id ?? "",
    username: r.username ?? "",
    grants: grants.get(r.account_id) ?? [],
    disabled: r.disabled,
    createdAt: r.created_at,
    lastLoginAt: r.last_login_at ?? undefined,
  }));
  const last = shown.at(-1);
  return {
    accounts,
    nextPageToken:
      rows.length > limit && last ? Buffer.from(last.account_id).toString("base64url") : "",
  };
}
