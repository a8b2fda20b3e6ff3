import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import {
  type GatewayHarness,
  type GraphQLAnswer,
  startGatewayHarness,
} from "../test-support/harness.js";

const diary = (studentId: string) =>
  `{ diary(studentId: "${studentId}", from: "2026-09-01", to: "2026-09-30") { marks { value } } }`;
const subscribe = (h: GatewayHarness, token: string, studentId: string) =>
  h.fetch({
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      query: `subscription { diaryChanged(studentId: "${studentId}") { kind id } }`,
    }),
  });
/** The one error of an SSE answer that failed at subscribe time. */
const sseError = (a: GraphQLAnswer) => {
  const data = a.text.match(/^data: (.*)$/m)?.[1];
  const body = JSON.parse(data ?? "{}") as GraphQLAnswer["body"];
  expect(body.errors).toHaveLength(1);
  return body.errors?.[0];
};
const only = (a: GraphQLAnswer) => {
  expect(a.body.data?.diary ?? null).toBeNull();
  expect(a.body.errors).toHaveLength(1);
  return a.body.errors?.[0];
};

describe("diary of a person who is not a pupil", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness();
  });
  afterAll(() => h?.close());

  it("is BAD_USER_INPUT naming studentId, for a caller who may see the person; reporting is not asked", async () => {
    for (const token of [
      await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "a1"),
      await h.token([`TEACHER@school:${F.s1}`], F.t1),
    ]) {
      h.fakes.reset();
      expect(only(await h.query(token, diary(F.t1)))).toEqual({
        message: `studentId: ${F.t1} is not a pupil; diaries are kept for pupils only`,
        locations: [{ line: 1, column: 3 }],
        path: ["diary"],
        extensions: { code: "BAD_USER_INPUT", field: "studentId" },
      });
      expect(h.fakes.calls.get("GetDiaries")).toBeUndefined();
    }
  });

  it("a caller who may not see the person gets the same answer as for an unknown id", async () => {
    const unknown = "nobody";
    for (const token of [
      await h.token([`SCHOOL_ADMIN@school:${F.s2}`], "a2"),
      await h.token(["GUARDIAN"], F.g1),
      await h.token([`TEACHER@school:${F.s1}`], F.t3),
    ]) {
      const teacher = only(await h.query(token, diary(F.t1)));
      const none = only(await h.query(token, diary(unknown)));
      expect(teacher?.extensions).toEqual(none?.extensions);
      expect(teacher?.extensions?.code).toBe("FORBIDDEN");
      expect(teacher?.message.replaceAll(F.t1, "<id>")).toBe(
        none?.message.replaceAll(unknown, "<id>"),
      );
    }
  });

  it("diaryChanged refuses the same way at subscribe time: BAD_USER_INPUT after the policy, FORBIDDEN before it", async () => {
    // This harness serves no notices: a subscription that passes its checks answers UNAVAILABLE.
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "a1");
    expect(sseError(await subscribe(h, admin, F.p1))?.extensions?.code).toBe("UNAVAILABLE");
    for (const token of [admin, await h.token([`TEACHER@school:${F.s1}`], F.t1)])
      expect(sseError(await subscribe(h, token, F.t1))).toEqual({
        message: `studentId: ${F.t1} is not a pupil; diaries are kept for pupils only`,
        locations: [{ line: 1, column: 16 }],
        path: ["diaryChanged"],
        extensions: { code: "BAD_USER_INPUT", field: "studentId" },
      });
    const outsider = await h.token([`SCHOOL_ADMIN@school:${F.s2}`], "a2");
    const teacher = sseError(await subscribe(h, outsider, F.t1));
    const none = sseError(await subscribe(h, outsider, "nobody"));
    expect(teacher?.extensions?.code).toBe("FORBIDDEN");
    expect(teacher?.message.replaceAll(F.t1, "<id>")).toBe(
      none?.message.replaceAll("nobody", "<id>"),
    );
  });
});

describe("diary of a pupil who moved to another school", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness();
  });
  afterAll(() => h?.close());

  it("names its subjects from the school holding the pupil now, not the one that registered them", async () => {
    // N1 was registered at S2 and is at S1 now: S1's admin reads the diary, and S1's subjects.
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "a1");
    const a = await h.query(
      admin,
      `{ diary(studentId: "${F.n1}", from: "2026-09-01", to: "2026-09-30") { lessons { subject { name } } marks { subject { name } } averages { subject { name } } } }`,
    );
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data?.diary).toEqual({
      lessons: [{ subject: { name: "Математика" } }],
      marks: [{ subject: { name: "Математика" } }],
      averages: [{ subject: { name: "Математика" } }],
    });
  });
});
