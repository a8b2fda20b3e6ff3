import { status } from "@grpc/grpc-js";
import {
  type Revocation,
  type RevocationList,
  sessionRevocationKey,
  watchRevocations,
} from "@otmetka/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import { REVOCATION_LEEWAY_MS } from "./revocations.js";
import { sha256 } from "./secrets.js";
import { logout } from "./sessions.js";

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
    revoked_reason: string | null;
  }>(
    `SELECT f.family_id, f.revoked_reason FROM refresh_tokens t JOIN refresh_families f USING (family_id)
     WHERE t.token_hash = $1`,
    [sha256(refreshToken)],
  );
  return rows[0]!;
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

  it("a Logout whose put fails changes nothing; its retry ends the session", async () => {
    const user = await h.userWith([]);
    const failing = new Proxy(h.revocations, {
      get(target, prop, receiver) {
        if (prop !== "get") return Reflect.get(target, prop, receiver);
        return () => Promise.reject(new Error("TimeoutError: timeout"));
      },
    });
    await expect(
      logout({ ...h.auth, revocations: failing }, { refreshToken: user.tokens.refreshToken }),
    ).rejects.toThrow(/timeout/);
    expect((await familyOf(user.tokens.refreshToken)).revoked_reason).toBeNull();
    await logout(h.auth, { refreshToken: user.tokens.refreshToken });
    expect((await familyOf(user.tokens.refreshToken)).revoked_reason).toBe("logout");
    const sid = claimsOf(user.tokens.accessToken).sid!;
    expect((await entry(sessionRevocationKey(user.accountId, sid)))?.value.reason).toBe("logout");
  });

  it("a session ended a token lifetime ago gets no entry (none of its tokens is valid)", async () => {
    const user = await h.userWith([]);
    await h.auth.store.pool.query(
      "UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'expired' WHERE family_id = $1",
      [
        (await familyOf(user.tokens.refreshToken)).family_id,
        new Date(h.clock.now().getTime() - h.auth.signer.ttlSeconds * 1000),
      ],
    );
    await h.authApi.logout({ refreshToken: user.tokens.refreshToken });
    const sid = claimsOf(user.tokens.accessToken).sid!;
    expect(await entry(sessionRevocationKey(user.accountId, sid))).toBeNull();
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
