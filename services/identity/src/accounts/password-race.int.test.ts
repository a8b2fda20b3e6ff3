import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { untilWaiting } from "../test-support/in-process.js";
import { changePassword } from "./accounts.js";
import { login, refresh } from "./sessions.js";

const h = useAuthHarness("identity_password_race");

const NEW_PASSWORD = "a brand new password 7";
const silent = { warn: () => {} } as unknown as Parameters<typeof refresh>[2];

/**
 * Runs `first` until it waits for the account's row lock (held here), then `second` until it
 * waits too, then lets both go in that order: their outcomes ("done", or the error).
 */
async function behindRowLock(
  accountId: string,
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
) {
  const holder = await h.auth.store.pool.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE", [accountId]);
  const settled = { first: false, second: false };
  const outcome = (p: Promise<unknown>) =>
    p.then(
      (v) => v,
      (e: unknown) => e,
    );
  const one = outcome(first());
  void one.finally(() => (settled.first = true));
  await untilWaiting(h.identity.deps, 1, () => settled.first);
  const two = outcome(second());
  void two.finally(() => (settled.second = true));
  await untilWaiting(h.identity.deps, 2, () => settled.second);
  await holder.query("ROLLBACK");
  holder.release();
  return [await one, await two] as const;
}

async function liveFamilies(accountId: string) {
  const { rows } = await h.auth.store.pool.query(
    "SELECT family_id FROM refresh_families WHERE account_id = $1 AND revoked_at IS NULL",
    [accountId],
  );
  return rows;
}

describe("login racing ChangePassword", () => {
  it("a login that checked the old password before the change committed is refused", async () => {
    const user = await h.userWith([]);
    const [changed, loggedIn] = await behindRowLock(
      user.accountId,
      () =>
        changePassword(
          h.auth,
          { accountId: user.accountId, currentPassword: "", newPassword: NEW_PASSWORD },
          false,
        ),
      () => login(h.auth, { username: user.username, password: user.password }),
    );
    expect(changed).toBeUndefined();
    // Before: the old password, checked against the hash read before the lock, logged in and
    // opened a session the change never ended.
    expect(loggedIn).toBeInstanceOf(DomainError);
    expect({
      kind: (loggedIn as DomainError).kind,
      field: (loggedIn as DomainError).field,
    }).toEqual({ kind: "unauthenticated", field: "credentials" });
    expect(await liveFamilies(user.accountId)).toEqual([]);
    // The new password works.
    await login(h.auth, { username: user.username, password: NEW_PASSWORD });
  });

  it("a login committed while the change waited has its session ended by it", async () => {
    const user = await h.userWith([]);
    const [loggedIn, changed] = await behindRowLock(
      user.accountId,
      () => login(h.auth, { username: user.username, password: user.password }),
      () =>
        changePassword(
          h.auth,
          { accountId: user.accountId, currentPassword: "", newPassword: NEW_PASSWORD },
          false,
        ),
    );
    expect(changed).toBeUndefined();
    const session = loggedIn as Awaited<ReturnType<typeof login>>;
    expect(session.accountId).toBe(user.accountId);
    // Before: the change's revocation read the families before the login committed its own.
    expect(await liveFamilies(user.accountId)).toEqual([]);
    const err = await refresh(h.auth, { refreshToken: session.tokens.refreshToken }, silent).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).message).toBe("refresh_token: its session was revoked");
  });
});
