import { status } from "@grpc/grpc-js";
import { PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import { describe, expect, it } from "vitest";
import { assignStaffToSchool } from "../commands/guardians.js";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import {
  ALL_TABLES,
  cmd,
  givenPerson,
  givenSchool,
  snapshotTables,
} from "../test-support/in-process.js";
import { createServiceAccount } from "./accounts.js";

/*
 * DisableAccount / EnableAccount switch an account off and on without erasing anyone;
 * ListAccounts shows a school's (or a person's) accounts to those who administer them.
 */
const h = useAuthHarness("identity_account_status");
const STAFF = PersonKind.PERSON_KIND_STAFF;
type Md = ReturnType<typeof h.md>;

/** Schools A and B (municipalities X and Y), a teacher of A with an account, callers. */
async function world() {
  const d = h.identity.deps;
  const a = await givenSchool(d);
  const b = await givenSchool(d);
  const teacherId = await givenPerson(d, a.schoolId, STAFF);
  const teacher = await h.userWith([`TEACHER@school:${a.schoolId}`], teacherId);
  return {
    a,
    b,
    teacherId,
    teacher,
    adminA: await h.callerWith([`SCHOOL_ADMIN@school:${a.schoolId}`]),
    adminB: await h.callerWith([`SCHOOL_ADMIN@school:${b.schoolId}`]),
    officerX: await h.callerWith([`MUNICIPAL_OFFICER@municipality:${a.municipalityId}`]),
    officerY: await h.callerWith([`MUNICIPAL_OFFICER@municipality:${b.municipalityId}`]),
    teacherA: await h.callerWith([`TEACHER@school:${a.schoolId}`]),
    platform: h.md(await h.adminToken()),
  };
}

const disable = (accountId: string, md: Md, commandId: string = cmd(), reason = "приказ № 12-к") =>
  h.authApi.disableAccount({ commandId, accountId, reason }, md);
const enable = (accountId: string, md: Md, commandId: string = cmd()) =>
  h.authApi.enableAccount({ commandId, accountId }, md);

/** The call fails with `code` naming `field` (message matching `text`), and no table changed. */
async function expectRefused(
  call: () => Promise<unknown>,
  code: status,
  field: string | undefined,
  text?: RegExp,
) {
  const before = await snapshotTables(h.identity.deps, ALL_TABLES);
  const err = await grpcError(call());
  expect(err.code, err.details).toBe(code);
  if (field) expect(err.metadata.get("field")).toEqual([field]);
  if (text) expect(err.details).toMatch(text);
  expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
  return err;
}

const accountEvents = async (accountId: string) =>
  (
    await h.identity.deps.store.pool.query<{ type: string }>(
      "SELECT type FROM eventstore.events WHERE stream_id = $1 ORDER BY stream_version",
      [`account-${accountId}`],
    )
  ).rows.map((r) => r.type);

describe("disabling and enabling an account", () => {
  it("disabled: login and refresh refused at once; enabled: login works, old sessions stay revoked", async () => {
    const w = await world();
    const { teacher } = w;
    await disable(teacher.accountId, w.adminA);
    const login = await grpcError(h.login(teacher.username, teacher.password));
    expect(login.code).toBe(status.FAILED_PRECONDITION);
    expect(login.details).toBe(
      "username: the account is disabled; ask your school's administration",
    );
    // Refused before the password is tried, as a locked account is.
    const wrong = await grpcError(h.login(teacher.username, "not the password at all"));
    expect(wrong.code).toBe(status.FAILED_PRECONDITION);
    const refresh = await grpcError(
      h.authApi.refresh({ refreshToken: teacher.tokens.refreshToken }),
    );
    expect(refresh.code).toBe(status.UNAUTHENTICATED);
    expect(refresh.details).toBe("refresh_token: its session was revoked");
    const shown = await h.authApi.getAccount({ accountId: teacher.accountId }, w.platform);
    expect(shown).toMatchObject({
      username: teacher.username,
      personId: w.teacherId,
      disabled: true,
      disabledReason: "приказ № 12-к",
    });

    await enable(teacher.accountId, w.adminA);
    const again = await h.login(teacher.username, teacher.password);
    expect(again.accessToken).toBeTruthy();
    expect((await h.authApi.refresh({ refreshToken: again.refreshToken })).tokens).toBeTruthy();
    // The session of before the switch stays revoked.
    expect(
      (await grpcError(h.authApi.refresh({ refreshToken: teacher.tokens.refreshToken }))).code,
    ).toBe(status.UNAUTHENTICATED);
    expect(await h.authApi.getAccount({ accountId: teacher.accountId }, w.platform)).toMatchObject({
      disabled: false,
      disabledReason: "",
    });
    expect(await accountEvents(teacher.accountId)).toEqual([
      "identity.v1.RoleGranted",
      "identity.v1.AccountDisabled",
      "identity.v1.AccountEnabled",
    ]);
  });

  it("is idempotent: a retried command id replays, the state it is already in writes nothing", async () => {
    const w = await world();
    const id = w.teacher.accountId;
    const first = cmd();
    await disable(id, w.adminA, first);
    await disable(id, w.adminA, first);
    await disable(id, w.officerX, cmd(), "another reason");
    expect(await accountEvents(id)).toEqual([
      "identity.v1.RoleGranted",
      "identity.v1.AccountDisabled",
    ]);
    expect((await h.authApi.getAccount({ accountId: id }, w.platform)).disabledReason).toBe(
      "приказ № 12-к",
    );
    // The same id for another command is refused.
    await expectRefused(() => enable(id, w.adminA, first), status.INVALID_ARGUMENT, "command_id");
    await enable(id, w.adminA);
    await enable(id, w.adminA);
    expect(await accountEvents(id)).toHaveLength(3);
  });

  it("bad input: typed errors naming the field, nothing changed", async () => {
    const w = await world();
    const id = w.teacher.accountId;
    const unknown = "00000000-0000-4000-8000-000000000000";
    await expectRefused(() => disable(unknown, w.platform), status.NOT_FOUND, "account_id");
    await expectRefused(() => enable(unknown, w.platform), status.NOT_FOUND, "account_id");
    await expectRefused(
      () => disable("not-a-uuid", w.platform),
      status.INVALID_ARGUMENT,
      "account_id",
    );
    await expectRefused(
      () => disable(id, w.platform, cmd(), "  "),
      status.INVALID_ARGUMENT,
      "reason",
    );
    await expectRefused(
      () => disable(id, w.platform, cmd(), "x".repeat(501)),
      status.INVALID_ARGUMENT,
      "reason",
    );
    await expectRefused(
      () => disable(id, w.platform, cmd(), "line\u0000break"),
      status.INVALID_ARGUMENT,
      "reason",
    );
    await expectRefused(() => disable(id, w.platform, ""), status.INVALID_ARGUMENT, "command_id");
  });

  it("answers to the schools of the account's person, and to whoever may revoke its roles", async () => {
    const w = await world();
    const id = w.teacher.accountId;
    // Another school's admin or officer, a teacher: refused, nothing changed.
    await expectRefused(() => disable(id, w.adminB), status.PERMISSION_DENIED, undefined);
    await expectRefused(() => disable(id, w.officerY), status.PERMISSION_DENIED, undefined);
    await expectRefused(() => disable(id, w.teacherA), status.PERMISSION_DENIED, undefined);
    // A teacher also working at B answers to B as well (as CreateAccount does).
    await assignStaffToSchool(h.identity.deps, {
      commandId: cmd(),
      personId: w.teacherId,
      schoolId: w.b.schoolId,
    });
    const both = await expectRefused(
      () => disable(id, w.adminA),
      status.PERMISSION_DENIED,
      undefined,
    );
    expect(both.details).toContain(`school ${w.b.schoolId}`);
    await disable(id, w.platform);
    await enable(id, w.platform);

    // An account whose roles reach above the school: its admin may not switch it off.
    const officerPerson = await givenPerson(h.identity.deps, w.a.schoolId, STAFF);
    const officer = await h.userWith(
      [`MUNICIPAL_OFFICER@municipality:${w.a.municipalityId}`],
      officerPerson,
    );
    await expectRefused(
      () => disable(officer.accountId, w.adminA),
      status.PERMISSION_DENIED,
      undefined,
    );
    // Platform and service accounts (no person): the platform alone.
    const platformAccount = await h.userWith(["PLATFORM_ADMIN"]);
    await expectRefused(
      () => disable(platformAccount.accountId, w.officerX),
      status.PERMISSION_DENIED,
      undefined,
    );
    // Nobody switches their own account.
    await expectRefused(
      () => disable(platformAccount.accountId, h.md(platformAccount.token)),
      status.PERMISSION_DENIED,
      "account_id",
      /nobody disables, enables or deletes their own account/,
    );
    await disable(platformAccount.accountId, w.platform);
    // A school's admin of the only school does it; so does the officer over it.
    const solo = await h.userWith([], await givenPerson(h.identity.deps, w.a.schoolId, STAFF));
    await disable(solo.accountId, w.adminA);
    await enable(solo.accountId, w.officerX);
  });

  it("a disabled service account gets no token", async () => {
    const { clientId, clientSecret } = await createServiceAccount(h.auth, { serviceName: "probe" });
    const platform = h.md(await h.adminToken());
    expect(
      (await h.authApi.issueServiceToken({ clientId, clientSecret })).accessToken,
    ).toBeTruthy();
    await disable(clientId, platform);
    const err = await grpcError(h.authApi.issueServiceToken({ clientId, clientSecret }));
    expect({ code: err.code, field: err.metadata.get("field") }).toEqual({
      code: status.FAILED_PRECONDITION,
      field: ["client_id"],
    });
    await enable(clientId, platform);
    expect(
      (await h.authApi.issueServiceToken({ clientId, clientSecret })).accessToken,
    ).toBeTruthy();
  });
});

describe("listing accounts", () => {
  it("lists a school's accounts with username, roles, disabled flag and times, paged", async () => {
    const w = await world();
    const pupilId = await givenPerson(h.identity.deps, w.a.schoolId);
    const pupil = await h.userWith(["STUDENT"], pupilId);
    await disable(pupil.accountId, w.adminA);
    const all = await h.authApi.listAccounts(
      { schoolId: w.a.schoolId, personId: "", pageSize: 0, pageToken: "" },
      w.adminA,
    );
    const byId = new Map(all.accounts.map((a) => [a.accountId, a]));
    expect(byId.get(pupil.accountId)).toMatchObject({
      personId: pupilId,
      username: pupil.username,
      disabled: true,
      grants: [{ role: "STUDENT", scopeKind: "", scopeId: "" }],
    });
    expect(byId.get(w.teacher.accountId)).toMatchObject({
      username: w.teacher.username,
      disabled: false,
      grants: [{ role: "TEACHER", scopeKind: "school", scopeId: w.a.schoolId }],
    });
    expect(byId.get(w.teacher.accountId)?.lastLoginAt).toBeInstanceOf(Date);
    expect(byId.get(w.teacher.accountId)?.createdAt).toBeInstanceOf(Date);
    // The pupil's, the teacher's and the callers working at A (its admin and a teacher); B's
    // admin's, the officers' and the platform's are not listed.
    expect(all.accounts).toHaveLength(4);
    expect(all.nextPageToken).toBe("");

    const first = await h.authApi.listAccounts(
      { schoolId: w.a.schoolId, personId: "", pageSize: 2, pageToken: "" },
      w.officerX,
    );
    const second = await h.authApi.listAccounts(
      { schoolId: w.a.schoolId, personId: "", pageSize: 2, pageToken: first.nextPageToken },
      h.md(await h.adminToken()),
    );
    expect([...first.accounts, ...second.accounts].map((a) => a.accountId)).toEqual(
      all.accounts.map((a) => a.accountId),
    );
    expect(second.nextPageToken).toBe("");

    const ofPerson = await h.authApi.listAccounts(
      { schoolId: "", personId: pupilId, pageSize: 0, pageToken: "" },
      w.adminA,
    );
    expect(ofPerson.accounts.map((a) => a.accountId)).toEqual([pupil.accountId]);
  });

  it("one school of the person is enough to read; others and teachers are refused", async () => {
    const w = await world();
    await assignStaffToSchool(h.identity.deps, {
      commandId: cmd(),
      personId: w.teacherId,
      schoolId: w.b.schoolId,
    });
    const ofTeacher = { schoolId: "", personId: w.teacherId, pageSize: 0, pageToken: "" };
    expect((await h.authApi.listAccounts(ofTeacher, w.adminB)).accounts).toHaveLength(1);
    const c = await givenSchool(h.identity.deps);
    const adminC = await h.callerWith([`SCHOOL_ADMIN@school:${c.schoolId}`]);
    const officerZ = await h.callerWith([`MUNICIPAL_OFFICER@municipality:${c.municipalityId}`]);
    // B's officer covers one school of the teacher now: enough to read.
    expect((await h.authApi.listAccounts(ofTeacher, w.officerY)).accounts).toHaveLength(1);
    for (const md of [adminC, w.teacherA, officerZ]) {
      expect((await grpcError(h.authApi.listAccounts(ofTeacher, md))).code).toBe(
        status.PERMISSION_DENIED,
      );
    }
    const ofA = { schoolId: w.a.schoolId, personId: "", pageSize: 0, pageToken: "" };
    for (const md of [w.adminB, w.teacherA, w.officerY]) {
      expect((await grpcError(h.authApi.listAccounts(ofA, md))).code).toBe(
        status.PERMISSION_DENIED,
      );
    }
  });

  it("bad input names the field", async () => {
    const w = await world();
    const list = (r: Partial<Parameters<typeof h.authApi.listAccounts>[0]>, md = w.platform) =>
      grpcError(
        h.authApi.listAccounts(
          { schoolId: "", personId: "", pageSize: 0, pageToken: "", ...r },
          md,
        ),
      );
    const cases: [Awaited<ReturnType<typeof list>>, status, string][] = [
      [await list({}), status.INVALID_ARGUMENT, "school_id"],
      [
        await list({ schoolId: w.a.schoolId, personId: w.teacherId }),
        status.INVALID_ARGUMENT,
        "school_id",
      ],
      [await list({ schoolId: "x" }), status.INVALID_ARGUMENT, "school_id"],
      [
        await list({ schoolId: w.a.schoolId, pageSize: 1001 }),
        status.INVALID_ARGUMENT,
        "page_size",
      ],
      [
        await list({ schoolId: w.a.schoolId, pageToken: "bm9wZQ" }),
        status.INVALID_ARGUMENT,
        "page_token",
      ],
      [
        await list({ schoolId: "00000000-0000-4000-8000-000000000000" }),
        status.NOT_FOUND,
        "school_id",
      ],
      [
        await list({ personId: "00000000-0000-4000-8000-000000000000" }),
        status.NOT_FOUND,
        "person_id",
      ],
    ];
    for (const [err, code, field] of cases) {
      expect({ code: err.code, field: err.metadata.get("field") }, err.details).toEqual({
        code,
        field: [field],
      });
    }
    // An unknown school is the region's: a school's admin is refused, not told it is unknown.
    expect((await list({ schoolId: "00000000-0000-4000-8000-000000000000" }, w.adminA)).code).toBe(
      status.PERMISSION_DENIED,
    );
  });
});

const remove = (accountId: string, md: Md, commandId: string = cmd(), reason = "ошибка ввода") =>
  h.authApi.deleteAccount({ commandId, accountId, reason }, md);

describe("deleting an account", () => {
  it("deleted: no login, its sessions end, its grants go, its username is free again", async () => {
    const w = await world();
    const { teacher } = w;
    const commandId = cmd();
    await remove(teacher.accountId, w.adminA, commandId);
    const login = await grpcError(h.login(teacher.username, teacher.password));
    expect({ code: login.code, details: login.details }).toEqual({
      code: status.UNAUTHENTICATED,
      details: "credentials: unknown username or wrong password",
    });
    expect(
      (await grpcError(h.authApi.refresh({ refreshToken: teacher.tokens.refreshToken }))).code,
    ).toBe(status.UNAUTHENTICATED);
    const gone = await grpcError(
      h.authApi.getAccount({ accountId: teacher.accountId }, w.platform),
    );
    expect(gone.code).toBe(status.NOT_FOUND);
    expect(await accountEvents(teacher.accountId)).toEqual([
      "identity.v1.RoleGranted",
      "identity.v1.AccountDeleted",
    ]);
    const { rows } = await h.identity.deps.store.pool.query(
      "SELECT 1 FROM account_grants WHERE account_id = $1 UNION ALL SELECT 1 FROM refresh_families WHERE account_id = $1",
      [teacher.accountId],
    );
    expect(rows).toEqual([]);
    const listed = await h.authApi.listAccounts(
      { schoolId: "", personId: w.teacherId, pageSize: 0, pageToken: "" },
      w.adminA,
    );
    expect(listed.accounts).toEqual([]);
    // A retry replays; another command on the deleted account finds nothing, changing nothing.
    await remove(teacher.accountId, w.adminA, commandId);
    await expectRefused(() => remove(teacher.accountId, w.adminA), status.NOT_FOUND, "account_id");
    // The username is free: a new account under it is another account, with none of the roles.
    const { accountId } = await h.authApi.createAccount(
      { username: teacher.username, password: teacher.password, personId: w.teacherId },
      w.adminA,
    );
    expect(accountId).not.toBe(teacher.accountId);
    const again = await h.login(teacher.username, teacher.password);
    expect(again.accessToken).toBeTruthy();
    expect(await h.authApi.getAccount({ accountId }, w.platform)).toMatchObject({ grants: [] });
  });

  it("answers to those who may disable it; never one's own; bad input names the field", async () => {
    const w = await world();
    await expectRefused(
      () => remove(w.teacher.accountId, w.adminB),
      status.PERMISSION_DENIED,
      undefined,
    );
    await expectRefused(
      () => remove(w.teacher.accountId, w.teacherA),
      status.PERMISSION_DENIED,
      undefined,
    );
    const officerPerson = await givenPerson(h.identity.deps, w.a.schoolId, STAFF);
    const officer = await h.userWith(
      [`MUNICIPAL_OFFICER@municipality:${w.a.municipalityId}`],
      officerPerson,
    );
    await expectRefused(
      () => remove(officer.accountId, w.adminA),
      status.PERMISSION_DENIED,
      undefined,
    );
    const platformAccount = await h.userWith(["PLATFORM_ADMIN"]);
    await expectRefused(
      () => remove(platformAccount.accountId, h.md(platformAccount.token)),
      status.PERMISSION_DENIED,
      "account_id",
      /nobody disables, enables or deletes their own account/,
    );
    await expectRefused(
      () => remove(w.teacher.accountId, w.adminA, cmd(), ""),
      status.INVALID_ARGUMENT,
      "reason",
    );
    await expectRefused(
      () => remove("00000000-0000-4000-8000-000000000000", w.platform),
      status.NOT_FOUND,
      "account_id",
    );
    await expectRefused(() => remove("x", w.platform), status.INVALID_ARGUMENT, "account_id");
    // A service account: the platform alone; then it gets no token.
    const { clientId, clientSecret } = await createServiceAccount(h.auth, { serviceName: "probe" });
    await expectRefused(() => remove(clientId, w.officerX), status.PERMISSION_DENIED, undefined);
    await remove(clientId, w.platform);
    expect((await grpcError(h.authApi.issueServiceToken({ clientId, clientSecret }))).code).toBe(
      status.UNAUTHENTICATED,
    );
    await remove(officer.accountId, w.platform);
    await remove(w.teacher.accountId, w.officerX);
  });
});
