import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import {
  type GatewayHarness,
  type GraphQLAnswer,
  startGatewayHarness,
} from "../test-support/harness.js";

const diary = (studentId: string) =>
  `{ diary(studentId: "${studentId}", from: "2026-09-01", to: "2026-09-30") { marks { value } } }`;
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
});
