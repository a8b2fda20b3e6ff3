import { status } from "@grpc/grpc-js";
import { PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import { describe, expect, it } from "vitest";
import { registerPerson } from "../commands/people.js";
import { ADMIN, useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import { cmd, givenSchool, personalData } from "../test-support/in-process.js";
import { bootstrapAdmin } from "./bootstrap-admin.js";

const h = useAuthHarness("identity_accounts");

const decodeClaims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;

describe("accounts and sessions", () => {
  it("logs in the bootstrap admin with PLATFORM_ADMIN; a second bootstrap does nothing", async () => {
    const tokens = await h.login(ADMIN.username, ADMIN.password);
    const claims = decodeClaims(tokens.accessToken);
    expect(claims).toMatchObject({
      iss: "otmetka-identity",
      aud: "otmetka",
      typ_kind: "user",
      roles: ["PLATFORM_ADMIN"],
    });
    expect(claims.exp).toBe((claims.iat as number) + 600);
    expect(tokens.expiresIn).toBe(600);
    expect(await bootstrapAdmin(h.auth, ADMIN)).toBeUndefined();
    const { rows } = await h.auth.store.pool.query(
      "SELECT count(*)::int AS n FROM account_grants WHERE role = 'PLATFORM_ADMIN'",
    );
    expect(rows[0].n).toBe(1);
  });

  it("refuses a wrong password and an unknown username alike (UNAUTHENTICATED)", async () => {
    const wrong = await grpcError(
      h.authApi.login({ username: ADMIN.username, password: "not-the-password!" }),
    );
    const unknown = await grpcError(
      h.authApi.login({ username: "nobody-here", password: "not-the-password!" }),
    );
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
    expect(unknown.code).toBe(status.UNAUTHENTICATED);
    expect(wrong.details).toBe(unknown.details);
  });

  it("refuses a username with NUL as INVALID_ARGUMENT naming it (PostgreSQL refused it: INTERNAL)", async () => {
    const err = await grpcError(
      h.authApi.login({ username: "admin\u0000", password: "not-the-password!" }),
    );
    expect({ code: err.code, field: err.metadata.get("field") }).toEqual({
      code: status.INVALID_ARGUMENT,
      field: ["username"],
    });
  });

  it("enforces the password policy with the rule in the error", async () => {
    const admin = h.md(await h.adminToken());
    const cases: [string, string, string][] = [
      ["ivanov", "short-pw", "password: must be at least 12 characters"],
      ["longusername12", "LongUsername12", "password: must not be the username"],
      ["petrov", "password1234", "password: is a common password"],
    ];
    for (const [username, password, message] of cases) {
      const err = await grpcError(
        h.authApi.createAccount({ username, password, personId: "" }, admin),
      );
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toBe(message);
    }
  });

  it("locks after 5 failures for 1 min, then 2 min, and unlocks (manual clock)", async () => {
    const user = await h.userWith([]);
    const fail = () =>
      grpcError(h.authApi.login({ username: user.username, password: "wrong-password-x" }));
    for (let i = 0; i < 4; i++) expect((await fail()).code).toBe(status.UNAUTHENTICATED);
    expect((await fail()).code).toBe(status.UNAUTHENTICATED); // the 5th locks
    const locked = await grpcError(h.login(user.username, user.password));
    expect(locked.code).toBe(status.FAILED_PRECONDITION);
    expect(locked.details).toMatch(/^username: is locked after repeated failed logins until /);
    h.clock.advance(59_000);
    expect((await grpcError(h.login(user.username, user.password))).code).toBe(
      status.FAILED_PRECONDITION,
    );
    h.clock.advance(2_000);
    // Unlocked; five more failures lock again, now for twice as long.
    for (let i = 0; i < 5; i++) await fail();
    h.clock.advance(61_000);
    expect((await grpcError(h.login(user.username, user.password))).code).toBe(
      status.FAILED_PRECONDITION,
    );
    h.clock.advance(60_000);
    expect((await h.login(user.username, user.password)).accessToken).toBeTruthy();
    // Success resets the back-off: the next lock is 1 min again.
    for (let i = 0; i < 5; i++) await fail();
    h.clock.advance(61_000);
    expect((await h.login(user.username, user.password)).accessToken).toBeTruthy();
  });

  it("rotates refresh tokens; reusing a spent one revokes the whole family", async () => {
    const user = await h.userWith([]);
    const first = user.tokens;
    const second = (await h.authApi.refresh({ refreshToken: first.refreshToken })).tokens!;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(decodeClaims(second.accessToken).sub).toBe(user.accountId);
    const third = (await h.authApi.refresh({ refreshToken: second.refreshToken })).tokens!;
    const reuse = await grpcError(h.authApi.refresh({ refreshToken: first.refreshToken }));
    expect(reuse.code).toBe(status.UNAUTHENTICATED);
    expect(reuse.details).toBe("refresh_token: was already used; its session is now revoked");
    const after = await grpcError(h.authApi.refresh({ refreshToken: third.refreshToken }));
    expect(after.code).toBe(status.UNAUTHENTICATED);
    expect(after.details).toBe("refresh_token: its session was revoked");
    // Another login is a new family and works.
    const again = await h.login(user.username, user.password);
    expect((await h.authApi.refresh({ refreshToken: again.refreshToken })).tokens).toBeTruthy();
  });

  it("logout revokes the family; an expired refresh token is refused", async () => {
    const user = await h.userWith([]);
    await h.authApi.logout({ refreshToken: user.tokens.refreshToken });
    expect(
      (await grpcError(h.authApi.refresh({ refreshToken: user.tokens.refreshToken }))).code,
    ).toBe(status.UNAUTHENTICATED);
    const other = await h.login(user.username, user.password);
    h.clock.advance(3601_000);
    const expired = await grpcError(h.authApi.refresh({ refreshToken: other.refreshToken }));
    expect(expired.details).toBe("refresh_token: has expired");
  });

  it("a revoked grant is gone from the next refreshed token", async () => {
    const schoolless = await h.userWith(["PORTAL_SUBSCRIBER"]);
    expect(decodeClaims(schoolless.token).roles).toEqual(["PORTAL_SUBSCRIBER"]);
    const admin = h.md(await h.adminToken());
    await h.authApi.revokeRole(
      {
        commandId: crypto.randomUUID(),
        accountId: schoolless.accountId,
        grant: { role: "PORTAL_SUBSCRIBER", scopeKind: "", scopeId: "" },
      },
      admin,
    );
    const next = (await h.authApi.refresh({ refreshToken: schoolless.tokens.refreshToken }))
      .tokens!;
    expect(decodeClaims(next.accessToken).roles).toEqual([]);
    const { rows } = await h.auth.store.pool.query(
      "SELECT type, metadata FROM eventstore.events WHERE stream_id = $1 ORDER BY stream_version",
      [`account-${schoolless.accountId}`],
    );
    expect(rows.map((r) => r.type)).toEqual(["identity.v1.RoleGranted", "identity.v1.RoleRevoked"]);
    // The revocation's actor is the verified admin, not a header.
    expect(rows[1].metadata.actor).toMatchObject({ kind: "user" });
    expect(rows[1].metadata.actor.id).not.toBe(schoolless.accountId);
  });

  it("service accounts: secret once, SERVICE token with svc; a wrong secret is refused", async () => {
    const admin = h.md(await h.adminToken());
    const { clientId, clientSecret } = await h.authApi.createServiceAccount(
      { serviceName: "grades" },
      admin,
    );
    const { accessToken } = await h.authApi.issueServiceToken({ clientId, clientSecret });
    expect(decodeClaims(accessToken)).toMatchObject({
      sub: clientId,
      typ_kind: "service",
      svc: "grades",
      roles: ["SERVICE"],
    });
    const wrong = await grpcError(
      h.authApi.issueServiceToken({ clientId, clientSecret: `${clientSecret}x` }),
    );
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
    const { rows } = await h.auth.store.pool.query(
      "SELECT secret_hash FROM accounts WHERE account_id = $1",
      [clientId],
    );
    expect(rows[0].secret_hash).not.toContain(clientSecret);
    // Only a PLATFORM_ADMIN creates service accounts.
    const teacher = await h.userWith([]);
    expect(
      (await grpcError(h.authApi.createServiceAccount({ serviceName: "x1" }, h.md(teacher.token))))
        .code,
    ).toBe(status.PERMISSION_DENIED);
  });

  it("changing a password needs the current one and ends the sessions", async () => {
    const user = await h.userWith([]);
    const md = h.md(user.token);
    const bad = await grpcError(
      h.authApi.changePassword(
        {
          accountId: user.accountId,
          currentPassword: "wrong-one-123",
          newPassword: "a-new-password-42",
        },
        md,
      ),
    );
    expect(bad.details).toBe("current_password: does not match");
    await h.authApi.changePassword(
      {
        accountId: user.accountId,
        currentPassword: user.password,
        newPassword: "a-new-password-42",
      },
      md,
    );
    expect(
      (await grpcError(h.authApi.refresh({ refreshToken: user.tokens.refreshToken }))).code,
    ).toBe(status.UNAUTHENTICATED);
    expect((await h.login(user.username, "a-new-password-42")).accessToken).toBeTruthy();
  });

  it("erasing a person deletes their account and its sessions", async () => {
    const { schoolId } = await givenSchool(h.identity.deps);
    const { personId } = await registerPerson(h.identity.deps, {
      commandId: cmd(),
      kind: PersonKind.PERSON_KIND_STAFF,
      schoolId,
      personalData: personalData(),
    });
    const user = await h.userWith([`TEACHER@school:${schoolId}`], personId);
    await h.api.erasePerson({ commandId: cmd(), personId }, h.md(await h.adminToken()));
    expect((await grpcError(h.login(user.username, user.password))).code).toBe(
      status.UNAUTHENTICATED,
    );
    expect(
      (await grpcError(h.authApi.refresh({ refreshToken: user.tokens.refreshToken }))).code,
    ).toBe(status.UNAUTHENTICATED);
  });
});
