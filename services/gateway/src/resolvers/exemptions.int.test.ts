import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import {
  type GatewayHarness,
  type GraphQLAnswer,
  startGatewayHarness,
} from "../test-support/harness.js";

/*
 * Exemptions (осв.) as reporting answers them (the fixture: P1 from PE, P2 and Q1 from maths):
 * on the journal (its pupils', its subject) and the diary (the pupil's, in the dates asked),
 * authorized with the journal or diary, and a staff read audited like marks.
 */
const fields = "pupil { id name } subject { id name } firstDay lastDay";
const journal = (classGroupId: string, subjectId: string) =>
  `query J { journal(classGroupId: "${classGroupId}", subjectId: "${subjectId}", termId: "${F.year}:1") { exemptions { ${fields} } } }`;
const diary = (studentId: string, from = "2026-09-01", to = "2026-09-30") =>
  `query D { diary(studentId: "${studentId}", from: "${from}", to: "${to}") { exemptions { ${fields} } } }`;

const exemptionsOf = (a: GraphQLAnswer, root: "journal" | "diary") => {
  expect(a.body.errors).toBeUndefined();
  return (a.body.data?.[root] as { exemptions: unknown[] } | undefined)?.exemptions;
};
const refused = (a: GraphQLAnswer, root: "journal" | "diary") => {
  expect(a.body.data?.[root] ?? null).toBeNull();
  expect(a.body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
  expect(a.text).not.toContain("firstDay");
  expect(a.text).not.toContain("2026-");
};

const p2Maths = {
  pupil: { id: "p02", name: "Pupil-p02 Имя" },
  subject: { id: "math", name: "Математика" },
  firstDay: "2026-09-01",
  lastDay: "2026-10-15",
};
const p1Pe = {
  pupil: { id: F.p1, name: `Pupil-${F.p1} Имя` },
  subject: { id: "pe", name: "Физическая культура" },
  firstDay: "2026-09-14",
  lastDay: "2026-12-25",
};

describe("exemptions", () => {
  let h: GatewayHarness;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    h = await startGatewayHarness();
    tokens.teacherMath = await h.token([`TEACHER@school:${F.s1}`], F.t1);
    tokens.teacherRus = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    tokens.admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    tokens.otherAdmin = await h.token([`SCHOOL_ADMIN@school:${F.s2}`], "admin2");
    tokens.guardian = await h.token(["GUARDIAN"], F.g1);
    tokens.student = await h.token(["STUDENT"], F.p1);
    tokens.municipal = await h.token([`MUNICIPAL_OFFICER@municipality:${F.m1}`], "muni");
  });
  afterAll(() => h?.close());

  it("the journal has its pupils' exemptions in its subject, pupil and subject joined", async () => {
    for (const token of [tokens.teacherMath, tokens.admin]) {
      expect(
        exemptionsOf(await h.query(token as string, journal(F.c1, "math")), "journal"),
      ).toEqual([p2Maths]);
    }
    expect(
      exemptionsOf(await h.query(tokens.admin as string, journal(F.c1, "rus")), "journal"),
    ).toEqual([]);
  });

  it("the diary has the pupil's exemptions overlapping the dates asked", async () => {
    for (const token of [tokens.student, tokens.guardian, tokens.admin]) {
      expect(exemptionsOf(await h.query(token as string, diary(F.p1)), "diary")).toEqual([p1Pe]);
    }
    const before = await h.query(tokens.student as string, diary(F.p1, "2026-09-01", "2026-09-13"));
    expect(exemptionsOf(before, "diary")).toEqual([]);
  });

  it("a caller who may not read the journal or the diary gets no exemption", async () => {
    for (const token of [tokens.teacherRus, tokens.otherAdmin, tokens.municipal, tokens.guardian])
      refused(await h.query(token as string, journal(F.c1, "math")), "journal");
    refused(await h.query(tokens.admin as string, journal(F.c2, "math")), "journal");
    for (const token of [tokens.teacherMath, tokens.otherAdmin, tokens.municipal])
      refused(await h.query(token as string, diary(F.p1)), "diary");
    refused(await h.query(tokens.guardian as string, diary(F.q1)), "diary");
  });

  it("a staff read of exemptions is audited, naming the exempt pupils; a pupil's own is not", async () => {
    h.records.length = 0;
    await h.query(tokens.teacherMath as string, journal(F.c1, "math"));
    await h.query(tokens.admin as string, diary(F.p1));
    expect(h.records.map((r) => [r.operation, r.pupilPersonIds, r.actorRole])).toEqual([
      ["J", ["p02"], `TEACHER@school:${F.s1}`],
      ["D", [F.p1], `SCHOOL_ADMIN@school:${F.s1}`],
    ]);
    // Without their names: an exemption is still the pupil's record, like a mark.
    h.records.length = 0;
    const bare = await h.query(
      tokens.teacherMath as string,
      `query B { journal(classGroupId: "${F.c1}", subjectId: "math", termId: "${F.year}:1") { exemptions { firstDay } } }`,
    );
    expect(bare.body.errors).toBeUndefined();
    expect(h.records.map((r) => [r.operation, r.pupilPersonIds])).toEqual([["B", ["p02"]]]);
    // Nothing served, nothing recorded: no exemptions in rus; the pupil's and guardian's own reads.
    h.records.length = 0;
    await h.query(tokens.admin as string, journal(F.c1, "rus"));
    await h.query(tokens.student as string, diary(F.p1));
    await h.query(tokens.guardian as string, diary(F.p1));
    expect(h.records).toEqual([]);
  });
});
