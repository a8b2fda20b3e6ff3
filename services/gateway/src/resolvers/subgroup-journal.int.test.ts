import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F, SUBGROUPS } from "../test-support/fixture.js";
import {
  type GatewayHarness,
  type GraphQLAnswer,
  startGatewayHarness,
} from "../test-support/harness.js";

const codes = (a: GraphQLAnswer) => (a.body.errors ?? []).map((e) => e.extensions?.code);
const journal = (subjectId: string, subgroupId?: string) =>
  `{ journal(classGroupId: "${F.c1}", subjectId: "${subjectId}", termId: "${F.year}:1"${subgroupId ? `, subgroupId: "${subgroupId}"` : ""}) { subgroupId rows { pupil { id } } } }`;

describe("a subgroup's journal", () => {
  let h: GatewayHarness;
  let mathTeacher: string;
  beforeAll(async () => {
    h = await startGatewayHarness();
    mathTeacher = await h.token([`TEACHER@school:${F.s1}`], F.t1);
  });
  afterAll(() => h?.close());

  it("is the subgroup's pupils, and says whose journal it is", async () => {
    const a = await h.query(mathTeacher, journal("math", "sg1"));
    expect(a.body.errors).toBeUndefined();
    const j = a.body.data?.journal as { subgroupId: string; rows: { pupil: { id: string } }[] };
    expect(j.subgroupId).toBe("sg1");
    expect(j.rows.map((r) => r.pupil.id).sort()).toEqual(
      [...(SUBGROUPS.sg1?.members ?? [])].sort(),
    );
    const whole = (await h.query(mathTeacher, journal("math"))).body.data?.journal as {
      subgroupId: string | null;
      rows: unknown[];
    };
    expect(whole.subgroupId).toBeNull();
    expect(whole.rows).toHaveLength(30);
  });

  it("refuses a subgroup of another class group, of another subject, or unknown: NOT_FOUND, no journal read", async () => {
    const rusTeacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    for (const [token, subject, subgroup] of [
      [mathTeacher, "math", "sg2"], // C2's
      [rusTeacher, "rus", "sg1"], // C1's, but in maths
      [mathTeacher, "math", "sg-unknown"],
    ] as const) {
      h.fakes.reset();
      const a = await h.query(token, journal(subject, subgroup));
      expect(codes(a), `${subject} ${subgroup}`).toEqual(["NOT_FOUND"]);
      expect(a.body.errors?.[0]?.message).toMatch(/subgroupId: no subgroup/);
      expect(h.fakes.calls.get("GetJournalView") ?? 0).toBe(0);
    }
  });

  it("a teacher of one subgroup reads that subgroup's journal only, not another's or the whole class's", async () => {
    // T3 (C1's Russian) also teaches the first maths subgroup of C1, and nothing else in maths.
    const groupTeacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    h.fakes.teaching.push({
      teacherId: F.t3,
      classGroupId: F.c1,
      subjectId: "math",
      subgroupId: "sg1",
    });
    try {
      const own = await h.query(groupTeacher, journal("math", "sg1"));
      expect(own.body.errors).toBeUndefined();
      const rows = (own.body.data?.journal as { rows: { pupil: { id: string } }[] } | null)?.rows;
      expect(rows?.map((r) => r.pupil.id).sort()).toEqual(
        [...(SUBGROUPS.sg1?.members ?? [])].sort(),
      );
      for (const [subgroup, field] of [
        ["sg3", "subgroupId"], // the other maths subgroup of C1
        [undefined, "classGroupId"], // the whole class's maths journal
      ] as const) {
        h.fakes.reset();
        const a = await h.query(groupTeacher, journal("math", subgroup));
        expect(codes(a), `${subgroup}`).toEqual(["FORBIDDEN"]);
        expect(a.body.errors?.[0]?.extensions?.field).toBe(field);
        expect(a.body.data?.journal).toBeNull();
        expect(a.text).not.toContain("Pupil-");
        expect(h.fakes.calls.get("GetJournalView") ?? 0).toBe(0);
      }
      // Its subscription is authorized the same way.
      const sub = await h.fetch({
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          authorization: `Bearer ${groupTeacher}`,
        },
        body: JSON.stringify({
          query: `subscription { journalChanged(classGroupId: "${F.c1}", subjectId: "math", subgroupId: "sg3") { id } }`,
        }),
      });
      expect(sub.text).toMatch(/FORBIDDEN/);
    } finally {
      h.fakes.teaching = h.fakes.teaching.filter((t) => t.subgroupId !== "sg1");
    }
  });

  it("a subscription to a subgroup's journal checks the subgroup the same way", async () => {
    const subscribe = (subgroupId: string) =>
      h.fetch({
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          authorization: `Bearer ${mathTeacher}`,
        },
        body: JSON.stringify({
          query: `subscription { journalChanged(classGroupId: "${F.c1}", subjectId: "math", subgroupId: "${subgroupId}") { id } }`,
        }),
      });
    // This harness serves no notices: a subgroup that passes the check gets that answer.
    expect((await subscribe("sg2")).text).toMatch(/NOT_FOUND/);
    const ok = (await subscribe("sg1")).text;
    expect(ok).not.toMatch(/NOT_FOUND/);
    expect(ok).toMatch(/UNAVAILABLE/);
  });
});
