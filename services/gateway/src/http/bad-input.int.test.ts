import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import {
  type GatewayHarness,
  type GraphQLAnswer,
  startGatewayHarness,
} from "../test-support/harness.js";

/* Bad input of every kind gets a typed error (extensions.code), never a 500. */

const codes = (a: GraphQLAnswer) => (a.body.errors ?? []).map((e) => e.extensions?.code);

describe("bad input", () => {
  let h: GatewayHarness;
  let admin: string;
  beforeAll(async () => {
    h = await startGatewayHarness({
      limits: { depth: 6, cost: 400, aliases: 3, tokens: 400, perMinute: 10_000 },
    });
    admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
  });
  afterAll(() => h?.close());

  it.each([
    ["missing", undefined],
    ["malformed", "not-a-jwt"],
  ])("a %s token is UNAUTHENTICATED (401)", async (_, token) => {
    const a = await h.query(token, "{ me { accountId } }");
    expect(a.status).toBe(401);
    expect(codes(a)).toEqual(["UNAUTHENTICATED"]);
  });

  it("an expired token is UNAUTHENTICATED, saying so", async () => {
    const token = await h.issuer.sign({ roles: ["STUDENT"], pid: F.p1, expiresInSeconds: -60 });
    const a = await h.query(token, "{ me { accountId } }");
    expect(a.status).toBe(401);
    expect(a.body.errors?.[0]?.message).toMatch(/expired/);
  });

  it("a forged token (foreign key, tampered payload, alg none) is UNAUTHENTICATED", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const foreign = await new SignJWT({ typ_kind: "user", roles: ["PLATFORM_ADMIN"] })
      .setProtectedHeader({ alg: "EdDSA", kid: "someone-else" })
      .setSubject("x")
      .setIssuer("otmetka-identity")
      .setAudience("otmetka")
      .setExpirationTime("5m")
      .sign(privateKey);
    const real = await h.token(["STUDENT"], F.p1);
    const [head, , sig] = real.split(".");
    const body = Buffer.from(
      JSON.stringify({
        sub: "x",
        typ_kind: "user",
        roles: ["PLATFORM_ADMIN"],
        iss: "otmetka-identity",
        aud: "otmetka",
        exp: 9e9,
      }),
    ).toString("base64url");
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${body}.`;
    for (const token of [foreign, `${head}.${body}.${sig}`, none]) {
      const a = await h.query(token, "{ region { name } }");
      expect(a.status).toBe(401);
      expect(codes(a)).toEqual(["UNAUTHENTICATED"]);
    }
  });

  it("wrong argument types and unknown fields are refused before anything runs", async () => {
    for (const q of [
      `{ dashboard(scope: { schoolId: "${F.s1}" }, period: { term: "one" }) { passRate { value } } }`,
      `{ diary(studentId: "${F.p1}", from: 20260901, to: "2026-09-30") { marks { value } } }`,
      "{ school { name } }",
      "{ nothing }",
      "{ me { accountId ",
    ]) {
      h.fakes.reset();
      const a = await h.query(admin, q);
      expect(a.status).toBeLessThan(500);
      expect(a.body.errors?.length).toBeGreaterThan(0);
      expect(codes(a).every((c) => c === "BAD_USER_INPUT")).toBe(true);
      expect(h.fakes.totalCalls()).toBe(0);
    }
  });

  it.each([
    [
      "a date that is no date",
      `{ diary(studentId: "${F.p1}", from: "2026-02-30", to: "2026-03-01") { marks { value } } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a range backwards",
      `{ diary(studentId: "${F.p1}", from: "2026-10-01", to: "2026-09-01") { marks { value } } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a bad term id",
      `{ journal(classGroupId: "${F.c1}", subjectId: "math", termId: "2026-1") { term } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a term of another year",
      `{ journal(classGroupId: "${F.c1}", subjectId: "math", termId: "2025:1") { term } }`,
      "BAD_USER_INPUT",
    ],
    [
      "two dashboard scopes",
      `{ dashboard(scope: { schoolId: "${F.s1}", classGroupId: "${F.c1}" }, period: { year: true }) { passRate { value } } }`,
      "BAD_USER_INPUT",
    ],
    [
      "no period",
      `{ dashboard(scope: { schoolId: "${F.s1}" }, period: {}) { passRate { value } } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a term 5",
      `{ dashboard(scope: { schoolId: "${F.s1}" }, period: { term: 5 }) { passRate { value } } }`,
      "BAD_USER_INPUT",
    ],
    [
      "EFFECTIVE as of a non-date",
      `{ dashboard(scope: { schoolId: "${F.s1}" }, period: { year: true, asOf: "2026-13-01", asOfMode: EFFECTIVE }) { passRate { value } } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a bad work programme id",
      `{ workProgramme(id: "${F.s1}:math") { version } }`,
      "BAD_USER_INPUT",
    ],
    ["an id with junk", '{ school(id: "s1; drop table") { name } }', "BAD_USER_INPUT"],
    ["an unknown school", '{ school(id: "nope") { name } }', "NOT_FOUND"],
    ["an unknown class group", '{ classGroup(id: "nope") { name } }', "NOT_FOUND"],
    ["an unknown person", '{ person(id: "nope") { name } }', "NOT_FOUND"],
    [
      "an unknown journal class group",
      `{ journal(classGroupId: "nope", subjectId: "math", termId: "2026:1") { term } }`,
      "NOT_FOUND",
    ],
    [
      "an unknown dashboard school",
      '{ dashboard(scope: { schoolId: "nope" }, period: { year: true }) { passRate { value } } }',
      "NOT_FOUND",
    ],
    [
      "an unknown work programme school",
      `{ workProgramme(id: "nope:2026:math:5") { version } }`,
      "NOT_FOUND",
    ],
  ])("%s: %s", async (_, q, code) => {
    const a = await h.query(admin, q);
    expect(a.status).toBe(200);
    expect(codes(a)).toEqual([code]);
    expect(a.body.errors?.[0]?.extensions?.field).toBeTruthy();
  });

  it.each([
    ["a page size of 0", "pageSize: 0", "pageSize"],
    ["a negative page size", "pageSize: -1", "pageSize"],
    ["a page size over 1000", "pageSize: 1001", "pageSize"],
    ["a page token that is no token", 'pageToken: "not a token!"', "pageToken"],
    // Larger than a gRPC message: it would have reached identity (and failed as INTERNAL).
    ["a 5 MB page token", `pageToken: "${"A".repeat(5 * 1024 * 1024)}"`, "pageToken"],
  ])(
    "accounts with %s: BAD_USER_INPUT naming the argument, no call to identity",
    async (_, arg, field) => {
      h.fakes.reset();
      const a = await h.query(admin, `{ accounts(schoolId: "${F.s1}", ${arg}) { nextPageToken } }`);
      expect(a.status).toBe(200);
      expect(codes(a)).toEqual(["BAD_USER_INPUT"]);
      expect(a.body.errors?.[0]?.extensions?.field).toBe(field);
      expect(a.body.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
      expect(h.fakes.calls.get("ListAccounts") ?? 0).toBe(0);
    },
  );

  it("too deep, too costly, too many aliases or tokens: refused with a typed error before any call", async () => {
    const deep =
      "{ region { municipalities { schools { classGroups { school { municipality { schools { name } } } } } } } }";
    const aliases =
      "{ a: me { accountId } b: me { accountId } c: me { accountId } d: me { accountId } e: me { accountId } }";
    const costly = `{ ${Array.from({ length: 40 }, (_, i) => `s${i}: school(id: "${F.s1}") { classGroups { name letter gradeLevel } }`).join(" ")} }`;
    const tokens = `{ me { ${Array.from({ length: 300 }, () => "accountId").join(" ")} } }`;
    for (const q of [deep, aliases, costly, tokens]) {
      h.fakes.reset();
      const a = await h.query(admin, q);
      expect(a.status, q.slice(0, 40)).toBeLessThan(500);
      expect(a.body.data ?? null).toBeNull();
      expect(codes(a).length).toBeGreaterThan(0);
      expect(codes(a).every((c) => c === "BAD_USER_INPUT")).toBe(true);
      expect(h.fakes.totalCalls()).toBe(0);
    }
  });

  it("introspection is off outside development", async () => {
    const a = await h.query(admin, "{ __schema { types { name } } }");
    expect(a.status).toBeLessThan(500);
    expect(a.body.data ?? null).toBeNull();
  });

  it("errors name no schema names the caller did not write (no 'Did you mean')", async () => {
    for (const q of [
      "{ me { acountId } }",
      `{ dashboard(scope: { schoolId: "${F.s1}" }, period: { term: 1, asOfMode: RECORDEDD }) { passRate { value } } }`,
    ]) {
      const a = await h.query(admin, q);
      expect(codes(a)).toEqual(["BAD_USER_INPUT"]);
      const message = a.body.errors?.[0]?.message ?? "";
      expect(message).toMatch(/acountId|RECORDEDD/);
      expect(message).not.toMatch(/Did you mean|accountId|"RECORDED"/);
    }
  });

  it("more directives than the limit: refused before anything runs", async () => {
    h.fakes.reset();
    const skips = Array.from({ length: 25 }, () => "@skip(if: false)").join(" ");
    const a = await h.query(admin, `{ me { accountId ${skips} } }`);
    expect(codes(a)).toEqual(["BAD_USER_INPUT"]);
    expect(h.fakes.totalCalls()).toBe(0);
  });

  it("GET queries need the CSRF header (no simple cross-site requests)", async () => {
    const url = `/graphql?query=${encodeURIComponent("{ me { accountId } }")}`;
    const without = await h.fetch({
      method: "GET",
      path: url,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(without.status).toBe(403);
    const withHeader = await h.fetch({
      method: "GET",
      path: url,
      headers: { authorization: `Bearer ${admin}`, "x-graphql-yoga-csrf": "1" },
    });
    expect(withHeader.status).toBe(200);
  });

  it("a malformed body is a 400, not a 500", async () => {
    const a = await h.fetch({
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: "{ not json",
    });
    expect(a.status).toBe(400);
  });

  it("a service that does not answer in time: UNAVAILABLE for its fields, not a hang or a 500", async () => {
    const slow = await startGatewayHarness({ timeoutMs: 300 });
    afterAll(() => slow.close());
    slow.fakes.delays.set("GetRegion", 3000);
    const token = await slow.token([`MINISTRY_OFFICER@region:${F.region}`], "m");
    const a = await slow.query(token, "{ region { name } }");
    expect(a.status).toBe(200);
    expect(codes(a)).toEqual(["UNAVAILABLE"]);
  });

  it("more requests a minute than the limit from one token: RATE_LIMITED (429)", async () => {
    const limited = await startGatewayHarness({
      limits: { depth: 6, cost: 400, aliases: 3, tokens: 400, perMinute: 5 },
    });
    afterAll(() => limited.close());
    const token = await limited.token(["STUDENT"], F.p1);
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await limited.query(token, "{ me { accountId } }"));
    expect(answers.slice(0, 5).every((a) => a.status === 200)).toBe(true);
    expect(answers[5]?.status).toBe(429);
    expect(codes(answers[5] as GraphQLAnswer)).toEqual(["RATE_LIMITED"]);
    // Another caller is not affected.
    const other = await limited.token(["STUDENT"], F.q1);
    expect((await limited.query(other, "{ me { accountId } }")).status).toBe(200);
  });

  /** Three logins, refreshes or logouts a minute from one address. */
  const anonymousLimits = {
    depth: 6,
    cost: 400,
    aliases: 3,
    tokens: 400,
    perMinute: 100,
    anonymousPerMinute: 3,
  };

  it("more logins a minute than the limit from one address: RATE_LIMITED, other addresses not", async () => {
    const limited = await startGatewayHarness({ limits: anonymousLimits, trustedProxyHops: 1 });
    afterAll(() => limited.close());
    const login = (forwardedFor: string) =>
      limited.fetch({
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
        body: JSON.stringify({
          query: `mutation { login(commandId: "c", input: { username: "u", password: "p" }) { accountId } }`,
        }),
      });
    // The client's own claims left of the balancer's entry change nothing.
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await login(`10.9.9.${i}, 203.0.113.7`));
    expect(answers.slice(0, 3).map((a) => a.status)).not.toContain(429);
    expect(answers[3]?.status).toBe(429);
    expect(codes(answers[3] as GraphQLAnswer)).toEqual(["RATE_LIMITED"]);
    expect(answers[3]?.body.errors?.[0]?.message).toMatch(/client address/);
    expect((await login("203.0.113.8")).status).not.toBe(429);
  });

  it("each login of a document counts against the address's limit, aliased ones too", async () => {
    const limited = await startGatewayHarness({ limits: anonymousLimits });
    afterAll(() => limited.close());
    const attempt = `(commandId: "c", input: { username: "u", password: "p" }) { accountId }`;
    const logins = (n: number) =>
      limited.fetch({
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: `mutation { ${Array.from({ length: n }, (_, i) => `l${i}: login${attempt}`).join(" ")} }`,
        }),
      });
    // Two attempts, then two more: the fourth is over the limit of three, so the second
    // document is refused whole.
    expect((await logins(2)).status).not.toBe(429);
    const over = await logins(2);
    expect(over.status).toBe(429);
    expect(codes(over)).toEqual(["RATE_LIMITED"]);
    expect(over.body.errors?.[0]?.message).toMatch(/client address/);
  });
});
