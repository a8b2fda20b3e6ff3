import { randomUUID } from "node:crypto";
import { inOwnTransaction } from "@otmetka/eventstore";
import { DomainError, hasControlCharacter, type Logger } from "@otmetka/service-kit";
import type pg from "pg";
import { invalidInput, refused } from "../domain/errors.js";
import { afterFailure, afterSuccess, isLocked, type LockoutState } from "../domain/lockout.js";
import { type AccountRow, disabledReason, grantsOf } from "./accounts.js";
import type { AuthDeps } from "./deps.js";
import { revokeSessionAccess, sessionMayHaveValidTokens } from "./revocations.js";
import {
  dummyPasswordHash,
  newSecret,
  sha256,
  verifyPassword,
  verifyServiceSecret,
} from "./secrets.js";

export interface TokenPair {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

const badCredentials = () =>
  new DomainError("unauthenticated", "credentials: unknown username or wrong password", {
    field: "credentials",
  });

const lockedUntil = (until: Date) =>
  refused("username", `is locked after repeated failed logins until ${until.toISOString()}`);

// As for a locked account (above): the holder learns why and whom to ask, instead of retrying.
const disabledAccount = (field: string) =>
  refused(field, "the account is disabled; ask your school's administration");

/** Whether the account was disabled (DisableAccount); read again after its row lock in a login. */
const isDisabled = async (db: pg.PoolClient | pg.Pool, accountId: string) =>
  (await disabledReason(db, accountId)) !== undefined;

const badRefresh = (why: string) =>
  new DomainError("unauthenticated", `refresh_token: ${why}`, { field: "refresh_token" });

const lockoutOf = (r: AccountRow): LockoutState => ({
  failedAttempts: r.failed_attempts,
  lockouts: r.lockouts,
  lockedUntil: r.locked_until,
});

const inTransaction = <T>(deps: AuthDeps, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> =>
  inOwnTransaction(deps.store.pool, fn);

/** When a family started at `createdAt` (its login) ends, however often it is refreshed. */
const familyEnd = (deps: AuthDeps, createdAt: Date) =>
  new Date(createdAt.getTime() + deps.refreshFamilyMaxAgeSeconds * 1000);

/**
 * A new refresh token in the family; only its SHA-256 is stored. It lives the refresh TTL but
 * never past the family's end. `expiresIn`: whole seconds from now (rounded down).
 */
async function insertRefreshToken(
  deps: AuthDeps,
  c: pg.PoolClient,
  family: { familyId: string; createdAt: Date },
) {
  const token = newSecret();
  const now = deps.clock.now();
  const expiresAt = Math.min(
    now.getTime() + deps.refreshTtlSeconds * 1000,
    familyEnd(deps, family.createdAt).getTime(),
  );
  await c.query(
    "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
    [sha256(token), family.familyId, now, new Date(expiresAt)],
  );
  return { token, expiresIn: Math.floor((expiresAt - now.getTime()) / 1000) };
}

/** An access token of the session `familyId` (its `sid`: Logout revokes it with the family). */
async function accessTokenFor(
  deps: AuthDeps,
  c: pg.PoolClient | pg.Pool,
  account: AccountRow,
  familyId: string,
) {
  return deps.signer.sign({
    sub: account.account_id,
    kind: "user",
    sid: familyId,
    ...(account.person_id ? { pid: account.person_id } : {}),
    roles: await grantsOf(c, account.account_id),
  });
}

/**
 * Username and password -> access token and a refresh token of a new family. Failures count
 * towards the lockout (domain/lockout.ts); a locked account is refused even with the right
 * password, and an unknown username costs as much time as a wrong password.
 */
export async function login(
  deps: AuthDeps,
  input: { username: string; password: string },
): Promise<{ accountId: string; tokens: TokenPair }> {
  const username = input.username.trim().toLowerCase();
  if (username === "") throw invalidInput("username", "is required");
  // No account has such a name; PostgreSQL would refuse NUL in the query (INTERNAL).
  if (hasControlCharacter(username))
    throw invalidInput("username", "must not contain control characters");
  if (input.password === "") throw invalidInput("password", "is required");
  const { rows } = await deps.store.pool.query<AccountRow>(
    "SELECT * FROM accounts WHERE username = $1 AND kind = 'user'",
    [username],
  );
  const found = rows[0];
  if (!found) {
    await verifyPassword(await dummyPasswordHash(), input.password);
    throw badCredentials();
  }
  // Refused before the password is tried, as a lock is: no guessing against it either.
  if (await isDisabled(deps.store.pool, found.account_id)) throw disabledAccount("username");
  if (isLocked(lockoutOf(found), deps.clock.now())) throw lockedUntil(found.locked_until!);
  const checked = await verifyPassword(found.secret_hash, input.password);
  const outcome = await inTransaction(deps, async (c) => {
    // Re-read under a row lock: concurrent failures must each count.
    const { rows: locked } = await c.query<AccountRow>(
      "SELECT * FROM accounts WHERE account_id = $1 FOR UPDATE",
      [found.account_id],
    );
    const account = locked[0];
    if (!account) return { error: badCredentials() };
    // Again under the lock: a DisableAccount committed meanwhile is seen here.
    if (await isDisabled(c, account.account_id)) return { error: disabledAccount("username") };
    const now = deps.clock.now();
    const state = lockoutOf(account);
    if (isLocked(state, now)) return { error: lockedUntil(account.locked_until!) };
    // A ChangePassword committed since the check: the password must match the new hash (the
    // old one would open a session the change never ended).
    const ok =
      account.secret_hash === found.secret_hash
        ? checked
        : await verifyPassword(account.secret_hash, input.password);
    const next = ok ? afterSuccess() : afterFailure(deps.lockout, state, now);
    await c.query(
      "UPDATE accounts SET failed_attempts = $2, lockouts = $3, locked_until = $4 WHERE account_id = $1",
      [account.account_id, next.failedAttempts, next.lockouts, next.lockedUntil],
    );
    if (!ok) return { error: badCredentials() };
    await c.query("UPDATE accounts SET last_login_at = $2 WHERE account_id = $1", [
      account.account_id,
      now,
    ]);
    const familyId = randomUUID();
    await c.query(
      "INSERT INTO refresh_families (family_id, account_id, created_at) VALUES ($1, $2, $3)",
      [familyId, account.account_id, now],
    );
    const refresh = await insertRefreshToken(deps, c, { familyId, createdAt: now });
    const access = await accessTokenFor(deps, c, account, familyId);
    return { account, refresh, access };
  });
  if ("error" in outcome) throw outcome.error;
  return {
    accountId: outcome.account.account_id,
    tokens: {
      accessToken: outcome.access.token,
      expiresIn: outcome.access.expiresIn,
      refreshToken: outcome.refresh.token,
      refreshExpiresIn: outcome.refresh.expiresIn,
    },
  };
}

/** A session (refresh family) ended in a committed transaction, whose entry is to be put. */
interface EndedSession {
  family: { accountId: string; familyId: string };
  endedAt: Date;
}

/**
 * Spends a refresh token for a new pair in the same family (grants are read again, so a
 * revocation takes effect here). A token presented a second time means it was copied: the
 * whole family is revoked, and the thief's and the owner's sessions both end. A family past
 * its absolute lifetime (IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS from its login) is ended, so
 * rotating a stolen token does not keep a session alive forever.
 */
export async function refresh(
  deps: AuthDeps,
  input: { refreshToken: string },
  logger: Logger,
): Promise<TokenPair> {
  if (input.refreshToken === "") throw invalidInput("refresh_token", "is required");
  const outcome = await inTransaction(deps, async (c) => {
    const { rows } = await c.query<{
      family_id: string;
      family_created_at: Date;
      expires_at: Date;
      rotated_at: Date | null;
      revoked_at: Date | null;
      revoked_reason: string | null;
      account_id: string;
    }>(
      `SELECT t.family_id, f.created_at AS family_created_at, t.expires_at, t.rotated_at,
              f.revoked_at, f.revoked_reason, f.account_id
       FROM refresh_tokens t JOIN refresh_families f USING (family_id)
       WHERE t.token_hash = $1 FOR UPDATE OF t, f`,
      [sha256(input.refreshToken)],
    );
    const t = rows[0];
    const now = deps.clock.now();
    if (!t) return { error: badRefresh("is unknown") };
    const family = { accountId: t.account_id, familyId: t.family_id };
    if (t.revoked_at) {
      // Revoked for reuse, its entry's put may have failed (below): each later use of one of
      // its tokens puts it again while one of its access tokens may be valid (a repeat writes
      // nothing).
      const reused = t.revoked_reason === "reuse" && sessionMayHaveValidTokens(t.revoked_at, now);
      return {
        error: badRefresh("its session was revoked"),
        ...(reused ? { ended: { family, endedAt: t.revoked_at } } : {}),
      };
    }
    if (t.rotated_at) {
      // The copy's holder may hold the session's access token too: its entry is put once this
      // revocation is committed (below).
      await c.query(
        "UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'reuse' WHERE family_id = $1",
        [t.family_id, now],
      );
      return {
        error: badRefresh("was already used; its session is now revoked"),
        ended: { family, endedAt: now },
      };
    }
    // Checked against the current setting, not a stored end: tokens issued before families had
    // an end (or under a longer one) end with their family too.
    if (familyEnd(deps, t.family_created_at).getTime() <= now.getTime()) {
      await c.query(
        "UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'expired' WHERE family_id = $1",
        [t.family_id, now],
      );
      return { error: badRefresh("has expired") };
    }
    if (t.expires_at.getTime() <= now.getTime()) return { error: badRefresh("has expired") };
    const { rows: accounts } = await c.query<AccountRow>(
      "SELECT * FROM accounts WHERE account_id = $1",
      [t.account_id],
    );
    if (!accounts[0]) return { error: badRefresh("its account no longer exists") };
    // Its families were revoked when it was disabled; this holds even for one that was not.
    if (await isDisabled(c, t.account_id)) return { error: badRefresh("its account is disabled") };
    await c.query("UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1", [
      sha256(input.refreshToken),
      now,
    ]);
    const refresh = await insertRefreshToken(deps, c, {
      familyId: t.family_id,
      createdAt: t.family_created_at,
    });
    const access = await accessTokenFor(deps, c, accounts[0], t.family_id);
    return { refresh, access };
  });
  // Committed first: a reuse leaves its family revoked even if NATS is down, and no connection
  // or row lock waits for the put. A failed put is logged; the next use of a token of the
  // family puts it again (above).
  if ("error" in outcome) {
    const ended: EndedSession | undefined = outcome.ended;
    if (ended) {
      await revokeSessionAccess(
        deps.revocations,
        ended.family,
        ended.endedAt,
        "refresh_reused",
      ).catch((err: unknown) =>
        logger.warn(
          { err, account_id: ended.family.accountId, sid: ended.family.familyId },
          "reused refresh token: session revoked, its access tokens' entry not put (put again at the next use of its tokens)",
        ),
      );
    }
    throw outcome.error;
  }
  return {
    accessToken: outcome.access.token,
    expiresIn: outcome.access.expiresIn,
    refreshToken: outcome.refresh.token,
    refreshExpiresIn: outcome.refresh.expiresIn,
  };
}

const revocationUnavailable = () =>
  new DomainError(
    "unavailable",
    "refresh_token: its session is ended, but its access tokens could not be revoked yet; retry Logout",
    { field: "refresh_token" },
  );

/**
 * Ends the refresh token's family and the access tokens of that session (the tokens carrying
 * its id as `sid`); the account's other sessions keep working. An unknown token is not an
 * error. The family is revoked and committed first, then the session's revocation entry is
 * put, holding no connection or row lock meanwhile: a failed put (a NATS outage) answers
 * UNAVAILABLE with the refresh token already dead, and a retry puts the entry. A family already
 * ended (revoked for any reason, expired) gets its entry at its end while a token of it may be
 * valid; a repeat writes nothing.
 */
export async function logout(
  deps: AuthDeps,
  input: { refreshToken: string },
  logger: Logger,
): Promise<void> {
  if (input.refreshToken === "") throw invalidInput("refresh_token", "is required");
  const ended = await inTransaction(deps, async (c): Promise<EndedSession | undefined> => {
    const { rows } = await c.query<{
      family_id: string;
      account_id: string;
      revoked_at: Date | null;
    }>(
      `SELECT f.family_id, f.account_id, f.revoked_at
       FROM refresh_tokens t JOIN refresh_families f USING (family_id)
       WHERE t.token_hash = $1 FOR UPDATE OF f`,
      [sha256(input.refreshToken)],
    );
    const family = rows[0];
    if (!family) return undefined;
    const now = deps.clock.now();
    if (!family.revoked_at) {
      await c.query(
        "UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'logout' WHERE family_id = $1",
        [family.family_id, now],
      );
    }
    const endedAt = family.revoked_at ?? now;
    if (!sessionMayHaveValidTokens(endedAt, now)) return undefined;
    return { family: { accountId: family.account_id, familyId: family.family_id }, endedAt };
  });
  if (!ended) return;
  try {
    await revokeSessionAccess(deps.revocations, ended.family, ended.endedAt, "logout");
  } catch (err) {
    logger.warn(
      { err, account_id: ended.family.accountId, sid: ended.family.familyId },
      "logout: session revoked, its access tokens' entry not put (the client retries)",
    );
    throw revocationUnavailable();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Client credentials of a service account -> an access token with role SERVICE. */
export async function issueServiceToken(
  deps: AuthDeps,
  input: { clientId: string; clientSecret: string },
): Promise<{ accessToken: string; expiresIn: number }> {
  const refusal = () =>
    new DomainError("unauthenticated", "credentials: unknown client_id or wrong client_secret", {
      field: "credentials",
    });
  if (!UUID.test(input.clientId)) throw refusal();
  const { rows } = await deps.store.pool.query<AccountRow>(
    "SELECT * FROM accounts WHERE account_id = $1 AND kind = 'service'",
    [input.clientId.toLowerCase()],
  );
  const account = rows[0];
  if (!account || !verifyServiceSecret(account.secret_hash, input.clientSecret)) throw refusal();
  if (await isDisabled(deps.store.pool, account.account_id)) throw disabledAccount("client_id");
  const { token, expiresIn } = await deps.signer.sign({
    sub: account.account_id,
    kind: "service",
    svc: account.service_name ?? "",
    roles: ["SERVICE"],
  });
  return { accessToken: token, expiresIn };
}
