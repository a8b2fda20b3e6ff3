import { randomUUID } from "node:crypto";
import { Metadata, status } from "@grpc/grpc-js";
import { PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from "jose";
import { describe, expect, it } from "vitest";
import { assignStaffToSchool, linkGuardian } from "../commands/guardians.js";
import { ACCESS_TTL_SECONDS, useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import { cmd, givenClassGroup, givenPerson, givenSchool } from "../test-support/in-process.js";

const h = useAuthHarness("identity_authz");
const year = { startYear: 2026 };

const getJwks = async () => (await fetch(h.jwksUrl)).json() as Promise<{ keys: { kid: string }[] }>;

async function twoSchools() {
  const a = await givenSchool(h.identity.deps);
  const b = await givenSchool(h.identity.deps);
  const group = (schoolId: string, letter: string) =>
    givenClassGroup(h.identity.deps, { schoolId, academicYear: year, gradeLevel: 5, letter });
  return { a, b, groupA: await group(a.schoolId, "А"), groupB: await group(b.schoolId, "А") };
}

const pupilAt = (schoolId: string, kind = PersonKind.PERSON_KIND_STUDENT) =>
  givenPerson(h.identity.deps, schoolId, kind);

describe("tokens", () => {
  it("verify against the JWKS endpoint: EdDSA, kid, issuer, audience, claims", async () => {
    const user = await h.userWith(["PORTAL_SUBSCRIBER"]);
    const res = await fetch(h.jwksUrl);
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    for (const k of jwks.keys)
      expect(Object.keys(k).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    const { payload, protectedHeader } = await jwtVerify(
      user.token,
      createLocalJWKSet(jwks as never),
      { issuer: "otmetka-identity", audience: "otmetka", currentDate: h.clock.now() },
    );
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(jwks.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
    expect(payload).toMatchObject({
      sub: user.accountId,
      typ_kind: "user",
      roles: ["PORTAL_SUBSCRIBER"],
    });
    expect(typeof payload.jti).toBe("string");
    expect(await h.api.getRegion({}, h.md(user.token))).toEqual({
      regionId: "74",
      name: "Челябинская область",
    });
  });

  it("refuse a call without a token, a tampered signature, an expired token and alg none", async () => {
    const noCaller = await grpcError(
      h.api.registerMunicipality({ commandId: cmd(), name: "Без токена" }),
    );
    expect(noCaller.code).toBe(status.UNAUTHENTICATED);
    expect(noCaller.details).toMatch(/^authorization: missing/);
    const { rows } = await h.auth.store.pool.query(
      "SELECT count(*)::int AS n FROM municipalities WHERE name = 'Без токена'",
    );
    expect(rows[0].n).toBe(0);

    const token = await h.adminToken();
    const [head, body, sig] = token.split(".") as [string, string, string];
    const flipped = sig.slice(0, 10) + (sig[10] === "A" ? "B" : "A") + sig.slice(11);
    const forgedBody = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body, "base64url").toString()),
        roles: ["PLATFORM_ADMIN", "SERVICE"],
      }),
    ).toString("base64url");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${body}.`;
    const other = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const foreign = await new SignJWT(JSON.parse(Buffer.from(body, "base64url").toString()))
      .setProtectedHeader({ alg: "EdDSA", kid: decodeProtectedHeader(token).kid! })
      .sign(other.privateKey);
    for (const bad of [
      `${head}.${body}.${flipped}`,
      `${head}.${forgedBody}.${sig}`,
      none,
      foreign,
    ]) {
      const err = await grpcError(h.api.getRegion({}, h.md(bad)));
      expect(err.code, bad).toBe(status.UNAUTHENTICATED);
    }
    const garbled = new Metadata();
    garbled.set("authorization", `Basic ${token}`);
    expect((await grpcError(h.api.getRegion({}, garbled))).code).toBe(status.UNAUTHENTICATED);

    h.clock.advance((ACCESS_TTL_SECONDS + 10) * 1000);
    const expired = await grpcError(h.api.getRegion({}, h.md(token)));
    expect(expired.code).toBe(status.UNAUTHENTICATED);
    expect(expired.details).toBe("authorization: token expired");
  });

  it("key rotation keeps valid tokens working; the old key leaves the JWKS after they expire", async () => {
    const before = await h.adminToken();
    const oldKid = decodeProtectedHeader(before).kid!;
    const { kid } = await h.authApi.rotateSigningKey({}, h.md(before));
    expect(kid).not.toBe(oldKid);
    expect((await getJwks()).keys.map((k) => k.kid)).toEqual([kid, oldKid]);
    expect(await h.api.getRegion({}, h.md(before))).toBeTruthy();
    const after = await h.adminToken();
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(await h.api.getRegion({}, h.md(after))).toBeTruthy();
    h.clock.advance((ACCESS_TTL_SECONDS + 61) * 1000);
    expect((await getJwks()).keys.map((k) => k.kid)).toEqual([kid]);
    expect((await grpcError(h.api.getRegion({}, h.md(before)))).code).toBe(status.UNAUTHENTICATED);
    // Only a PLATFORM_ADMIN rotates.
    const user = await h.userWith([]);
    expect((await grpcError(h.authApi.rotateSigningKey({}, h.md(user.token)))).code).toBe(
      status.PERMISSION_DENIED,
    );
  });
});

describe("scopes", () => {
  it("a teacher or admin of school A is refused on school B (PERMISSION_DENIED)", async () => {
    const { a, b, groupA, groupB } = await twoSchools();
    const adminA = await h.callerWith([`SCHOOL_ADMIN@school:${a.schoolId}`]);
    const teacherA = await h.callerWith([`TEACHER@school:${a.schoolId}`]);
    const open = (schoolId: string, letter: string, md: Metadata) =>
      h.api.openClassGroup(
        {
          commandId: cmd(),
          schoolId,
          academicYear: year,
          gradeLevel: 6,
          letter,
          homeroomTeacherId: "",
        },
        md,
      );
    expect((await open(a.schoolId, "Б", adminA)).classGroupId).toBeTruthy();
    const denied = await grpcError(open(b.schoolId, "Б", adminA));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toContain(`school ${b.schoolId}`);
    expect((await grpcError(open(a.schoolId, "В", teacherA))).code).toBe(status.PERMISSION_DENIED);

    const subgroup = (classGroupId: string, md: Metadata) =>
      h.api.openSubgroup({ commandId: cmd(), classGroupId, subjectId: "english", name: "1" }, md);
    expect((await subgroup(groupA, teacherA)).subgroupId).toBeTruthy();
    expect((await grpcError(subgroup(groupB, teacherA))).code).toBe(status.PERMISSION_DENIED);

    const pupilB = await pupilAt(b.schoolId);
    const enroll = await grpcError(
      h.api.enrollStudent(
        { commandId: cmd(), personId: pupilB, classGroupId: groupB, effectiveDate: "2026-09-01" },
        adminA,
      ),
    );
    expect(enroll.code).toBe(status.PERMISSION_DENIED);
    expect(
      (await grpcError(h.api.erasePerson({ commandId: cmd(), personId: pupilB }, adminA))).code,
    ).toBe(status.PERMISSION_DENIED);
    // The municipality's officer covers its schools; a ministry officer covers the region.
    const officer = await h.callerWith([`MUNICIPAL_OFFICER@municipality:${b.municipalityId}`]);
    await h.api.enrollStudent(
      { commandId: cmd(), personId: pupilB, classGroupId: groupB, effectiveDate: "2026-09-01" },
      officer,
    );
    expect((await grpcError(open(a.schoolId, "Г", officer))).code).toBe(status.PERMISSION_DENIED);
    const ministry = await h.callerWith(["MINISTRY_OFFICER@region:74"]);
    expect(
      (await h.api.registerMunicipality({ commandId: cmd(), name: "Новый округ" }, ministry))
        .municipalityId,
    ).toBeTruthy();
    expect(
      (await grpcError(h.api.registerMunicipality({ commandId: cmd(), name: "Ещё" }, adminA))).code,
    ).toBe(status.PERMISSION_DENIED);
  });

  it("personal data only to entitled callers: staff of the pupil's school, their guardian, themselves", async () => {
    const { a, b } = await twoSchools();
    const pupil = await pupilAt(a.schoolId);
    const mother = await pupilAt(a.schoolId, PersonKind.PERSON_KIND_GUARDIAN);
    await linkGuardian(h.identity.deps, { commandId: cmd(), studentId: pupil, guardianId: mother });
    const teacherA = await h.callerWith([`TEACHER@school:${a.schoolId}`]);
    const teacherB = await h.callerWith([`TEACHER@school:${b.schoolId}`]);
    const guardian = await h.callerWith(["GUARDIAN"], mother);
    const self = await h.callerWith(["STUDENT"], pupil);
    const ask = (md: Metadata) =>
      h.api.getPeople({ personIds: [pupil], includePersonalData: true }, md);
    for (const md of [teacherA, guardian, self]) {
      expect((await ask(md)).people[0]?.personalData?.familyName).toBe("Петрова");
    }
    const denied = await grpcError(ask(teacherB));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toMatch(/^person_ids\[0\]: personal data of /);
    const idsOnly = await h.api.getPeople(
      { personIds: [pupil], includePersonalData: false },
      teacherB,
    );
    expect(idsOnly.people[0]?.personalData).toBeUndefined();
    expect(
      (await grpcError(h.api.searchPeople({ schoolId: a.schoolId, query: "Петрова" }, teacherB)))
        .code,
    ).toBe(status.PERMISSION_DENIED);
  });

  it("grants: SCHOOL_ADMIN grants TEACHER in their school only; never to themselves", async () => {
    const { a, b } = await twoSchools();
    const adminA = await h.userWith([`SCHOOL_ADMIN@school:${a.schoolId}`]);
    // TEACHER@A goes to a person working at A (and B: the refusal below is the admin's scope).
    const teacher = await givenPerson(h.identity.deps, a.schoolId, PersonKind.PERSON_KIND_STAFF);
    await assignStaffToSchool(h.identity.deps, {
      commandId: cmd(),
      personId: teacher,
      schoolId: b.schoolId,
    });
    const target = await h.userWith([], teacher);
    const grant = (
      role: string,
      scopeKind: string,
      scopeId: string,
      accountId = target.accountId,
    ) =>
      h.authApi.grantRole(
        { commandId: cmd(), accountId, grant: { role, scopeKind, scopeId } },
        h.md(adminA.token),
      );
    await grant("TEACHER", "school", a.schoolId);
    expect((await grpcError(grant("TEACHER", "school", b.schoolId))).code).toBe(
      status.PERMISSION_DENIED,
    );
    expect(
      (await grpcError(grant("MUNICIPAL_OFFICER", "municipality", a.municipalityId))).code,
    ).toBe(status.PERMISSION_DENIED);
    expect((await grpcError(grant("PLATFORM_ADMIN", "", ""))).code).toBe(status.PERMISSION_DENIED);
    const self = await grpcError(grant("TEACHER", "school", a.schoolId, adminA.accountId));
    expect(self.code).toBe(status.PERMISSION_DENIED);
    const badRole = await grpcError(grant("JANITOR", "", ""));
    expect([badRole.code, badRole.details.split(":")[0]]).toEqual([
      status.INVALID_ARGUMENT,
      "grant.role",
    ]);
    const badScope = await grpcError(grant("TEACHER", "municipality", a.municipalityId));
    expect(badScope.details).toBe("grant.scope_kind: TEACHER is granted at a school");
    const next = await h.login(target.username, target.password);
    const roles = JSON.parse(
      Buffer.from(next.accessToken.split(".")[1]!, "base64url").toString(),
    ).roles;
    expect(roles).toEqual([`TEACHER@school:${a.schoolId}`]);
    const account = await h.authApi.getAccount(
      { accountId: target.accountId },
      h.md(next.accessToken),
    );
    expect(account.grants).toEqual([{ role: "TEACHER", scopeKind: "school", scopeId: a.schoolId }]);
    expect(
      (
        await grpcError(
          h.authApi.getAccount({ accountId: adminA.accountId }, h.md(next.accessToken)),
        )
      ).code,
    ).toBe(status.PERMISSION_DENIED);
  });

  it("a SERVICE token passes the school checks; accounts for people need their school's admin", async () => {
    const { a, b } = await twoSchools();
    const admin = h.md(await h.adminToken());
    const { clientId, clientSecret } = await h.authApi.createServiceAccount(
      { serviceName: "grades" },
      admin,
    );
    const svc = h.md((await h.authApi.issueServiceToken({ clientId, clientSecret })).accessToken);
    expect(
      (
        await h.api.openClassGroup(
          {
            commandId: cmd(),
            schoolId: b.schoolId,
            academicYear: year,
            gradeLevel: 7,
            letter: "А",
            homeroomTeacherId: "",
          },
          svc,
        )
      ).classGroupId,
    ).toBeTruthy();
    const teacher = await pupilAt(b.schoolId, PersonKind.PERSON_KIND_STAFF);
    const adminA = await h.callerWith([`SCHOOL_ADMIN@school:${a.schoolId}`]);
    const create = (md: Metadata) =>
      h.authApi.createAccount(
        {
          username: `t-${randomUUID().slice(0, 8)}`,
          password: "a-long-password-1",
          personId: teacher,
        },
        md,
      );
    expect((await grpcError(create(adminA))).code).toBe(status.PERMISSION_DENIED);
    const adminB = await h.callerWith([`SCHOOL_ADMIN@school:${b.schoolId}`]);
    expect((await create(adminB)).accountId).toBeTruthy();
  });
});
