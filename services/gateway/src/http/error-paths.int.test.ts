import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";

/*
 * GraphQL spec 7.1.2: a field error carries the `path` of the field that failed (and its
 * `locations` in the document), so a client of a request with several fields can tell which
 * one failed. Request-level errors (parse, validation, limits, authentication) have no path.
 */
const range = `from: "2026-09-01", to: "2026-09-30"`;
const journal = { classGroupId: F.c1, subjectId: "math", academicYear: { startYear: 2026 } };
const mark = { studentId: F.p1, value: "MARK_VALUE_FIVE", workType: "ORAL" };

describe("field errors keep their path and locations", () => {
  let h: GatewayHarness;
  let admin: string;
  beforeAll(async () => {
    h = await startGatewayHarness();
    admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "a1");
  });
  afterAll(() => h?.close());

  it("two aliased diaries, one of a person who is not a pupil: data for a, null and one located error for b", async () => {
    const query = [
      "query Two {",
      `  a: diary(studentId: "${F.p1}", ${range}) { marks { value } }`,
      `  b: diary(studentId: "${F.t1}", ${range}) { marks { value } }`,
      "}",
    ].join("\n");
    const a = await h.query(admin, query);
    expect(a.body.data?.a).not.toBeNull();
    expect(a.body.data?.b).toBeNull();
    expect(a.body.errors).toEqual([
      {
        message: `studentId: ${F.t1} is not a pupil; diaries are kept for pupils only`,
        locations: [{ line: 3, column: 3 }],
        path: ["b"],
        extensions: { code: "BAD_USER_INPUT", field: "studentId" },
      },
    ]);
  });

  it("a policy's refusal of the second of two fields is located there", async () => {
    // Q1 is a pupil of another school: FORBIDDEN by the diary's policy, before its resolver.
    const query = `{ ok: diary(studentId: "${F.p1}", ${range}) { marks { value } } other: diary(studentId: "${F.q1}", ${range}) { marks { value } } }`;
    const a = await h.query(admin, query);
    expect(a.body.data?.ok).not.toBeNull();
    expect(a.body.data?.other).toBeNull();
    expect(a.body.errors).toHaveLength(1);
    expect(a.body.errors?.[0]).toMatchObject({
      path: ["other"],
      locations: [{ line: 1, column: query.indexOf("other:") + 1 }],
      extensions: { code: "FORBIDDEN" },
    });
  });

  it("a mutation batch: the refusal at its own field, the gateway's code and field unchanged", async () => {
    // Root mutation fields are non-null and run in order: the first failure ends the batch.
    // (An input off its type is refused before execution, for the whole request; a command id
    // is the gateway's own check, at the field.)
    const a = await h.query(
      admin,
      `mutation Batch($ok: RecordMarkInput!) {
        refused: recordMark(commandId: "bad id!", input: $ok) { markId }
        notRun: recordMark(commandId: "c-2", input: $ok) { markId }
      }`,
      { ok: { journal, lessonId: "l1", mark } },
    );
    expect(a.body.data).toBeNull();
    expect(a.body.errors).toEqual([
      {
        message: expect.stringMatching(/^commandId: /),
        locations: [{ line: 2, column: 9 }],
        path: ["refused"],
        extensions: { code: "BAD_USER_INPUT", field: "commandId" },
      },
    ]);
    // grades is not connected in this harness: a command the gateway lets through is UNAVAILABLE.
    const passed = await h.query(
      admin,
      `mutation M($ok: RecordMarkInput!) { recordMark(commandId: "c-3", input: $ok) { markId } }`,
      { ok: { journal, lessonId: "l1", mark } },
    );
    expect(passed.body.errors).toEqual([
      {
        message: "recordMark: grades is not connected",
        locations: [{ line: 1, column: 37 }],
        path: ["recordMark"],
        extensions: { code: "UNAVAILABLE" },
      },
    ]);
  });

  it("an internal error is still masked (no stack, no detail) and now located", async () => {
    h.fakes.failures.set("GetSchools", { code: status.INTERNAL, details: "secret detail" });
    try {
      const officer = await h.token([`MINISTRY_OFFICER@region:${F.region}`], "m");
      const a = await h.query(officer, `{ school(id: "${F.s1}") { name } }`);
      expect(a.body.data).toEqual({ school: null });
      expect(a.body.errors).toEqual([
        {
          message: expect.stringMatching(/^internal error \(trace \w+\)$/),
          locations: [{ line: 1, column: 3 }],
          path: ["school"],
          extensions: { code: "INTERNAL_SERVER_ERROR" },
        },
      ]);
      expect(a.text).not.toContain("secret detail");
      expect(a.text).not.toContain("stack");
    } finally {
      h.fakes.failures.clear();
    }
  });

  it("request-level errors keep no path: authentication, parse, validation", async () => {
    const none = await h.query(
      undefined,
      `{ a: diary(studentId: "${F.p1}", ${range}) { marks { value } } }`,
    );
    const parse = await h.query(admin, "{ diary(");
    const unknown = await h.query(admin, "{ nope }");
    for (const [answer, code] of [
      [none, "UNAUTHENTICATED"],
      [parse, "BAD_USER_INPUT"],
      [unknown, "BAD_USER_INPUT"],
    ] as const) {
      expect(answer.body.errors).toHaveLength(1);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe(code);
      expect(answer.body.errors?.[0]).not.toHaveProperty("path");
    }
  });
});

describe("a service the gateway gets no answer from", () => {
  it("is UNAVAILABLE naming the service, never the gateway's address or socket error", async () => {
    const down = await startGatewayHarness();
    try {
      const port = down.fakes.address.split(":").pop() ?? "";
      await down.fakes.stop();
      const officer = await down.token([`MINISTRY_OFFICER@region:${F.region}`], "m");
      const a = await down.query(officer, "{ region { name } }");
      expect(a.status).toBe(200);
      expect(a.body.errors).toEqual([
        {
          message: "identity is unavailable; retry",
          locations: [{ line: 1, column: 3 }],
          path: ["region"],
          extensions: { code: "UNAVAILABLE" },
        },
      ]);
      for (const internal of ["127.0.0.1", port, "ECONNREFUSED", "connect"])
        expect(a.text).not.toContain(internal);
    } finally {
      await down.close();
    }
  });

  it("past its deadline: UNAVAILABLE saying it did not answer in time", async () => {
    const slow = await startGatewayHarness({ timeoutMs: 200 });
    try {
      slow.fakes.delays.set("GetRegion", 2000);
      const officer = await slow.token([`MINISTRY_OFFICER@region:${F.region}`], "m");
      const a = await slow.query(officer, "{ region { name } }");
      expect(a.body.errors).toEqual([
        {
          message: "identity did not answer in time; retry",
          locations: [{ line: 1, column: 3 }],
          path: ["region"],
          extensions: { code: "UNAVAILABLE" },
        },
      ]);
    } finally {
      await slow.close();
    }
  });

  it("a status the service answered keeps its own message", async () => {
    const h = await startGatewayHarness();
    try {
      h.fakes.failures.set("GetRegion", {
        code: status.UNAVAILABLE,
        details: "temporarily unavailable, retry (trace 0af7651916cd43dd8448eb211c80319c)",
      });
      const officer = await h.token([`MINISTRY_OFFICER@region:${F.region}`], "m");
      const a = await h.query(officer, "{ region { name } }");
      expect(a.body.errors?.[0]?.message).toBe(
        "temporarily unavailable, retry (trace 0af7651916cd43dd8448eb211c80319c)",
      );
      expect(a.body.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    } finally {
      await h.close();
    }
  });
});
