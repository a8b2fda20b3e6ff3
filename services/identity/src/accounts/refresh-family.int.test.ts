import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  REFRESH_FAMILY_MAX_AGE_SECONDS,
  REFRESH_TTL_SECONDS,
  useAuthHarness,
} from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import { sha256 } from "./secrets.js";

const h = useAuthHarness("identity_refresh_family");

const MINUTE = 60_000;

/** The family of a refresh token, as stored. */
async function familyOf(refreshToken: string) {
  const { rows } = await h.auth.store.pool.query<{
    revoked_at: Date | null;
    revoked_reason: string | null;
  }>(
    `SELECT f.revoked_at, f.revoked_reason
     FROM refresh_tokens t JOIN refresh_families f USING (family_id) WHERE t.token_hash = $1`,
    [sha256(refreshToken)],
  );
  return rows[0]!;
}

describe("refresh families end at their absolute lifetime", () => {
  // The harness: refresh tokens live 1 h, a family 3 h from its login.
  it("a session refreshed regularly ends max age after its login; its family is ended", async () => {
    expect(REFRESH_FAMILY_MAX_AGE_SECONDS).toBe(3 * REFRESH_TTL_SECONDS);
    const user = await h.userWith([]);
    let tokens = user.tokens;
    expect(tokens.refreshExpiresIn).toBe(REFRESH_TTL_SECONDS);
    // Every 50 minutes, within each token's hour: 50, 100 and 150 minutes after login.
    for (let i = 0; i < 3; i++) {
      h.clock.advance(50 * MINUTE);
      tokens = (await h.authApi.refresh({ refreshToken: tokens.refreshToken })).tokens!;
    }
    // Issued at 150 min: it lives to the family's end at 180 min, not to 210.
    expect(tokens.refreshExpiresIn).toBe(30 * 60);
    h.clock.advance(29 * MINUTE);
    tokens = (await h.authApi.refresh({ refreshToken: tokens.refreshToken })).tokens!;
    expect(tokens.refreshExpiresIn).toBe(60);
    h.clock.advance(2 * MINUTE); // 181 min: the last token is 2 minutes old.
    const refused = await grpcError(h.authApi.refresh({ refreshToken: tokens.refreshToken }));
    expect(refused.code).toBe(status.UNAUTHENTICATED);
    expect(refused.details).toBe("refresh_token: has expired");
    expect(refused.metadata.get("field")).toEqual(["refresh_token"]);
    const family = await familyOf(tokens.refreshToken);
    expect(family.revoked_at?.toISOString()).toBe(h.clock.now().toISOString());
    expect(family.revoked_reason).toBe("expired");
    // A new login is a new family with its own lifetime.
    const again = await h.login(user.username, user.password);
    expect((await h.authApi.refresh({ refreshToken: again.refreshToken })).tokens).toBeTruthy();
  });

  it("a token that outlives its family (issued before the limit, or under a longer one) is refused at the family's end", async () => {
    const user = await h.userWith([]);
    const tokens = user.tokens;
    // As if issued before families had an end: its own expiry is a day away.
    await h.auth.store.pool.query(
      "UPDATE refresh_tokens SET expires_at = expires_at + interval '1 day' WHERE token_hash = $1",
      [sha256(tokens.refreshToken)],
    );
    h.clock.advance(REFRESH_FAMILY_MAX_AGE_SECONDS * 1000);
    const refused = await grpcError(h.authApi.refresh({ refreshToken: tokens.refreshToken }));
    expect(refused.code).toBe(status.UNAUTHENTICATED);
    expect(refused.details).toBe("refresh_token: has expired");
    expect((await familyOf(tokens.refreshToken)).revoked_reason).toBe("expired");
    // Ended, not just refused: the family stays revoked.
    const again = await grpcError(h.authApi.refresh({ refreshToken: tokens.refreshToken }));
    expect(again.details).toBe("refresh_token: its session was revoked");
  });
});
