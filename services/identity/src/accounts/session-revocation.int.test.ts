import { status } from "@grpc/grpc-js";
import {
  REVOCATION_TTL_MS,
  type Revocation,
  type RevocationList,
  type RevocationsBucket,
  sessionRevocationKey,
  watchRevocations,
} from "@otmetka/messaging";
import { createLogger } from "@otmetka/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import { REVOCATION_LEEWAY_MS } from "./revocations.js";
import { sha256 } from "./secrets.js";
import { logout, refresh } from "./sessions.js";

/*
 * Logout ends its session's access tokens too (the revocation list's session entries), not
 * the account's other sessions; so does a refresh family revoked for a reused refresh token.
 */
const h = useAuthHarness("identity_session_revocations");
let list: RevocationList;
beforeAll(async () => {
  list = await watchRevocations(h.revocations);
});
afterAll(() => list?.stop());

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as {
    sub: string;
    iat: number;
    sid?: string;
  };

async function entry(key: string) {
  const e = await h.revocations.get(key);
  return e && e.operation === "PUT" ? { value: e.json<Revocation>(), revision: e.revision } : null;
}

/** The refresh family (session) a refresh token belongs to, and whether it is revoked. */
async function familyOf(refreshToken: string) {
  const { rows } = await h.auth.store.pool.query<{
    family_id: string;
    revoked_at: Date | null;
    revoked_reason: string | null;
  }>(
    `SELECT f.family_id, f.revoked_at, f.revoked_reason
     FROM refresh_tokens t JOIN refresh_families f USING (family_id)
     WHERE t.token_hash = $1`,
    [sha256(refreshToken)],
  );
  return rows[0]!;
}

/** Ends the token's family `agoMs` before the clock's now, for `reason`. */
async function endedAgo(refreshToken: string, agoMs: number, reason: string) {
  const endedAt = new Date(h.clock.now().getTime() - agoMs);
  await h.auth.store.pool.query(
    "UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3 WHERE family_id = $1",
    [(await familyOf(refreshToken)).family_id, endedAt, reason],
  );
  return endedAt;
}

/** A logger whose warnings the test reads back. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    service: "identity-test",
    level: "warn",
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines };
}

/** The bucket with every read failing as in a NATS outage (a put reads first). */
const failingBucket = (): RevocationsBucket =>
  new Proxy(h.revocations, {
    get(target, prop, receiver) {
      if (prop !== "get") return Reflect.get(target, prop, receiver);
      return () => Promise.reject(new Error("TimeoutError: timeout"));
    },
  });

/** The bucket with reads held until `release()`: a slow NATS; `waiting` once one is held. */
function slowBucket() {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  let entered = () => {};
  const waiting = new Promise<void>((r) => {
    entered = r;
  });
  const bucket: RevocationsBucket = new Proxy(h.revocations, {
    get(target, prop, receiver) {
      if (prop !== "get") return Reflect.get(target, prop, receiver);
      return async (key: string) => {
        entered();
        await released;
        return target.get(key);
      };
    },
  });
  return { bucket, waiting, release };
}

/** The promise's value, or "blocked" if it has none within `ms`. */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"blocked">((r) => setTimeout(() => r("blocked"), ms))]);

/** Connections of the test's database inside a transaction (holding locks) right now. */
async function openTransactions() {
  const { rows } = await h.auth.store.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
  );
  return rows[0]!.n;
}

/** Until the watch has seen the session's entry. */
const seen = (accountId: string, sessionId: string) =>
  expect.poll(() => list.sessionRevokedAt(accountId, sessionId), { timeout: 5000 }).toBeDefined();

describe("session revocation", () => {
  it("access tokens carry their session (the refresh family), kept across refreshes", async () => {
    const user = await h.userWith([]);
    const claims = claimsOf(user.tokens.accessToken);
    expect(claims.sid).toBe((await familyOf(user.tokens.refreshToken)).family_id);
    const next = (await h.authApi.refresh({ refreshToken: user.tokens.refreshToken })).tokens!;
    expect(claimsOf(next.accessToken).sid).toBe(claims.sid);
    const other = await h.login(user.username, user.password);
    expect(claimsOf(other.accessToken).sid).not.toBe(claims.sid);
  });

  it("Logout puts its session's entry before it answers; the account's other sessions are not on it", async () => {
    const user = await h.userWith([]);
    const shared = user.tokens; // the school computer
    const phone = await h.login(user.username, user.password);
    const sid = claimsOf(shared.accessToken).sid!;
    await h.authApi.logout({ refreshToken: shared.refreshToken });
    const put = await entry(sessionRevocationKey(user.accountId, sid));
    expect(put?.value).toEqual({
      revokedAt: h.clock.now().getTime() + REVOCATION_LEEWAY_MS,
      reason: "logout",
    });
    // Neither the account's entry nor the other session's.
    expect(await entry(user.accountId)).toBeNull();
    const phoneSid = claimsOf(phone.accessToken).sid!;
    expect(await entry(sessionRevocationKey(user.accountId, phoneSid))).toBeNull();
    // As a verifier reads it: the logged-out token is refused, the phone's is not.
    await seen(user.accountId, sid);
    expect(list.isRevoked(user.accountId, () => claimsOf(shared.accessToken))).toBe(true);
    expect(list.isRevoked(user.accountId, () => claimsOf(phone.accessToken))).toBe(false);
    // The phone keeps refreshing; the logged-out session does not.
    expect((await h.authApi.refresh({ refreshToken: phone.refreshToken })).tokens).toBeTruthy();
    expect((await grpcError(h.authApi.refresh({ refreshToken: shared.refreshToken }))).code).toBe(
      status.UNAUTHENTICATED,
    );
    // A repeated Logout writes nothing.
    h.clock.advance(1000);
    await h.authApi.logout({ refreshToken: shared.refreshToken });
    expect((await entry(sessionRevocationKey(user.accountId, sid)))?.revision).toBe(put?.revision);
  });

  it("a Logout whose put fails still ends the family and answers UNAVAILABLE; its retry puts the entry at the family's end", async () => {
    const user = await h.userWith([]);
    const { logger, lines } = capturedLogger();
    await expect(
      logout(
        { ...h.auth, revocations: failingBucket() },
        { refreshToken: user.tokens.refreshToken },
        logger,
      ),
    ).rejects.toMatchObject({ kind: "unavailable", field: "refresh_token" });
    expect(lines.join("")).toMatch(/entry not put/);
    const family = await familyOf(user.tokens.refreshToken);
    expect(family.revoked_reason).toBe("logout");
    expect(
      (await grpcError(h.authApi.refresh({ refreshToken: user.tokens.refreshToken }))).code,
    ).toBe(status.UNAUTHENTICATED);
    // The retry, later, takes the family's end, not its own time.
    h.clock.advance(5000);
    await h.authApi.logout({ refreshToken: user.tokens.refreshToken });
    const sid = claimsOf(user.tokens.accessToken).sid!;
    expect((await entry(sessionRevocationKey(user.accountId, sid)))?.value).toEqual({
      revokedAt: family.revoked_at!.getTime() + REVOCATION_LEEWAY_MS,
      reason: "logout",
    });
  });

  it("a reused refresh token whose put fails still revokes the family; the next use of its tokens puts the entry", async () => {
    const user = await h.userWith([]);
    const first = user.tokens;
    const second = (await h.authApi.refresh({ refreshToken: first.refreshToken })).tokens!;
    const { logger, lines } = capturedLogger();
    await expect(
      refresh(
        { ...h.auth, revocations: failingBucket() },
        { refreshToken: first.refreshToken },
        logger,
      ),
    ).rejects.toThrow("refresh_token: was already used; its session is now revoked");
    expect(lines.join("")).toMatch(/entry not put/);
    const family = await familyOf(first.refreshToken);
    expect(family.revoked_reason).toBe("reuse");
    const sid = claimsOf(second.accessToken).sid!;
    expect(await entry(sessionRevocationKey(user.accountId, sid))).toBeNull();
    // The thief's (or the owner's) next refresh is refused and repairs the entry.
    h.clock.advance(5000);
    const next = await grpcError(h.authApi.refresh({ refreshToken: second.refreshToken }));
    expect(next.details).toBe("refresh_token: its session was revoked");
    expect((await entry(sessionRevocationKey(user.accountId, sid)))?.value).toEqual({
      revokedAt: family.revoked_at!.getTime() + REVOCATION_LEEWAY_MS,
      reason: "refresh_reused",
    });
  });

  it("no connection or row lock waits for a slow put: a refresh of the same family answers meanwhile", async () => {
    const { logger } = capturedLogger();
    // Logout.
    const user = await h.userWith([]);
    const slow = slowBucket();
    const out = logout(
      { ...h.auth, revocations: slow.bucket },
      { refreshToken: user.tokens.refreshToken },
      logger,
    );
    try {
      await slow.waiting;
      expect(await openTransactions()).toBe(0);
      const meanwhile = await within(
        grpcError(h.authApi.refresh({ refreshToken: user.tokens.refreshToken })),
        3000,
      );
      expect(meanwhile).not.toBe("blocked");
      expect(meanwhile).toMatchObject({ code: status.UNAUTHENTICATED });
    } finally {
      slow.release();
    }
    await out;
    const sid = claimsOf(user.tokens.accessToken).sid!;
    expect((await entry(sessionRevocationKey(user.accountId, sid)))?.value.reason).toBe("logout");
    // A reused refresh token.
    const other = await h.userWith([]);
    const second = (await h.authApi.refresh({ refreshToken: other.tokens.refreshToken })).tokens!;
    const slowReuse = slowBucket();
    const reuse = refresh(
      { ...h.auth, revocations: slowReuse.bucket },
      { refreshToken: other.tokens.refreshToken },
      logger,
    ).catch((err: Error) => err.message);
    try {
      await slowReuse.waiting;
      expect(await openTransactions()).toBe(0);
      const meanwhile = await within(
        grpcError(h.authApi.refresh({ refreshToken: second.refreshToken })),
        3000,
      );
      expect(meanwhile).not.toBe("blocked");
      expect(meanwhile).toMatchObject({ details: "refresh_token: its session was revoked" });
    } finally {
      slowReuse.release();
    }
    expect(await reuse).toBe("refresh_token: was already used; its session is now revoked");
  });

  it("an ended session gets its entry while a token of it may be valid, whatever the current TTL", async () => {
    // Ended the current TTL ago: a token signed under a longer setting (up to 3600 s) may be valid.
    const recent = await h.userWith([]);
    const endedAt = await endedAgo(
      recent.tokens.refreshToken,
      h.auth.signer.ttlSeconds * 1000,
      "expired",
    );
    await h.authApi.logout({ refreshToken: recent.tokens.refreshToken });
    const sid = claimsOf(recent.tokens.accessToken).sid!;
    expect((await entry(sessionRevocationKey(recent.accountId, sid)))?.value).toEqual({
      revokedAt: endedAt.getTime() + REVOCATION_LEEWAY_MS,
      reason: "logout",
    });
    // Ended the bucket's TTL ago (longest lifetime, leeway, verifiers' tolerance): none is valid.
    const old = await h.userWith([]);
    await endedAgo(old.tokens.refreshToken, REVOCATION_TTL_MS, "expired");
    await h.authApi.logout({ refreshToken: old.tokens.refreshToken });
    const oldSid = claimsOf(old.tokens.accessToken).sid!;
    expect(await entry(sessionRevocationKey(old.accountId, oldSid))).toBeNull();
    // The same cutoff for a family revoked for reuse, whose tokens' later use puts its entry.
    const reused = await h.userWith([]);
    await endedAgo(reused.tokens.refreshToken, REVOCATION_TTL_MS, "reuse");
    await grpcError(h.authApi.refresh({ refreshToken: reused.tokens.refreshToken }));
    const reusedSid = claimsOf(reused.tokens.accessToken).sid!;
    expect(await entry(sessionRevocationKey(reused.accountId, reusedSid))).toBeNull();
  });

  it("a family revoked for a reused refresh token has its session's entry too", async () => {
    const user = await h.userWith([]);
    const first = user.tokens;
    const second = (await h.authApi.refresh({ refreshToken: first.refreshToken })).tokens!;
    const reuse = await grpcError(h.authApi.refresh({ refreshToken: first.refreshToken }));
    expect(reuse.details).toBe("refresh_token: was already used; its session is now revoked");
    const sid = claimsOf(second.accessToken).sid!;
    expect((await entry(sessionRevocationKey(user.accountId, sid)))?.value).toEqual({
      revokedAt: h.clock.now().getTime() + REVOCATION_LEEWAY_MS,
      reason: "refresh_reused",
    });
    await seen(user.accountId, sid);
    expect(list.isRevoked(user.accountId, () => claimsOf(second.accessToken))).toBe(true);
  });
});
