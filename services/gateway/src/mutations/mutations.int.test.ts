import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import {
  type GatewayHarness,
  type GraphQLAnswer,
  startGatewayHarness,
} from "../test-support/harness.js";

/*
 * The gateway's own checks of commands, over the fake read services (grades is not connected
 * here, so a command the gateway lets through answers UNAVAILABLE; the e2e test runs them for
 * real). Every refusal is typed and reaches no service.
 */
const codeOf = (a: GraphQLAnswer) => a.body.errors?.[0]?.extensions?.code;
const fieldOf = (a: GraphQLAnswer) => a.body.errors?.[0]?.extensions?.field;

const journal = { classGroupId: F.c1, subjectId: "math", academicYear: { startYear: 2026 } };
const mark = { studentId: F.p1, value: "MARK_VALUE_FIVE", workType: "ORAL" };
const RECORD = `mutation M($c: ID!, $i: JSONObject!) { recordMark(commandId: $c, input: $i) }`;

describe("mutations", () => {
  let h: GatewayHarness;
  let teacher: string;
  beforeAll(async () => {
    h = await startGatewayHarness({});
    teacher = await h.token([`TEACHER@school:${F.s1}`], F.t1);
  });
  afterAll(() => h?.close());

  const record = (token: string | undefined, input: unknown, c = "cmd-1") =>
    h.query(token, RECORD, { c, i: input });

  it("refuses malformed input naming the field, before any service call", async () => {
    const before = h.fakes.totalCalls();
    const cases: [unknown, string, string][] = [
      [[1, 2], "BAD_USER_INPUT", ""],
      [{ journal, lessonId: "l1", mark, grade: 5 }, "BAD_USER_INPUT", "input.grade"],
      [{ journal, lessonId: "l1", mark, commandId: "x" }, "BAD_USER_INPUT", "input.commandId"],
      [
        { journal, lessonId: "l1", mark: { ...mark, value: "SIX" } },
        "BAD_USER_INPUT",
        "input.mark.value",
      ],
      [
        { journal, lessonId: "l1", mark: { ...mark, value: 9 } },
        "BAD_USER_INPUT",
        "input.mark.value",
      ],
    ];
    for (const [input, code, field] of cases) {
      const a = await record(teacher, input);
      expect(codeOf(a)).toBe(code);
      if (field) expect(fieldOf(a)).toBe(field);
    }
    const badId = await record(teacher, { journal, lessonId: "l1", mark }, "bad id!");
    expect([codeOf(badId), fieldOf(badId)]).toEqual(["BAD_USER_INPUT", "commandId"]);
    expect(h.fakes.totalCalls()).toBe(before);
  });

  it("refuses callers without a role that could run the command, and other schools' journals", async () => {
    const guardian = await h.token(["GUARDIAN"], F.g1);
    expect(codeOf(await record(guardian, { journal, lessonId: "l1", mark }))).toBe("FORBIDDEN");
    const other = { ...journal, classGroupId: F.c2 };
    const a = await record(teacher, { journal: other, lessonId: "l1", mark });
    expect([codeOf(a), fieldOf(a)]).toEqual(["FORBIDDEN", "input.classGroupId"]);
    const unknown = await record(teacher, { journal: { ...journal, classGroupId: "nope" }, mark });
    expect(codeOf(unknown)).toBe("NOT_FOUND");
    const municipal = await h.token([`MUNICIPAL_OFFICER@municipality:${F.m2}`]);
    const school = await h.query(
      municipal,
      `mutation { renameSchool(commandId: "c", input: { schoolId: "${F.s1}", name: "x" }) }`,
    );
    expect(codeOf(school)).toBe("FORBIDDEN");
  });

  it("lets an in-scope command through to the service (here: not connected)", async () => {
    expect(codeOf(await record(teacher, { journal, lessonId: "l1", mark }))).toBe("UNAVAILABLE");
  });

  it("looks a class group's placement up once per process, and still refuses from it", async () => {
    const cg = { ...journal, classGroupId: F.c3 };
    h.fakes.reset();
    const otherTeacher = await h.token([`TEACHER@school:${F.s2}`], F.t2);
    for (let i = 0; i < 3; i++) {
      expect(codeOf(await record(teacher, { journal: cg, lessonId: "l1", mark }))).toBe(
        "UNAVAILABLE",
      );
      const refused = await record(otherTeacher, { journal: cg, lessonId: "l1", mark });
      expect([codeOf(refused), fieldOf(refused)]).toEqual(["FORBIDDEN", "input.classGroupId"]);
    }
    expect(h.fakes.calls.get("GetClassGroups")).toBe(1);
    // Unknown ids are not kept: asked again each time.
    for (let i = 0; i < 2; i++)
      expect(
        codeOf(await record(teacher, { journal: { ...journal, classGroupId: "new" }, mark })),
      ).toBe("NOT_FOUND");
    expect(h.fakes.calls.get("GetClassGroups")).toBe(3);
  });

  it("needs a token for everything but login, refreshToken and logout", async () => {
    const none = await record(undefined, { journal, lessonId: "l1", mark });
    expect([none.status, codeOf(none)]).toEqual([401, "UNAUTHENTICATED"]);
    const mixed = await h.query(
      undefined,
      `mutation { logout(commandId: "c", input: { refreshToken: "r" }) renameSchool(commandId: "c", input: { schoolId: "s1", name: "x" }) }`,
    );
    expect([mixed.status, codeOf(mixed)]).toEqual([401, "UNAUTHENTICATED"]);
    // No token needed: it reaches identity's AuthService (the fakes do not implement it).
    const login = await h.query(
      undefined,
      `mutation { login(commandId: "c", input: { username: "u", password: "p" }) }`,
    );
    expect(login.status).not.toBe(401);
    expect(codeOf(login)).not.toBe("UNAUTHENTICATED");
  });
});
