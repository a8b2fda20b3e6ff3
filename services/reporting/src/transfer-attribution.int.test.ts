import { randomUUID } from "node:crypto";
import { TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResultBasis } from "./domain/metrics/definitions.js";
import { DEFAULT_METRICS_CONFIG } from "./domain/metrics/definitions.js";
import type { Level } from "./projections/deltas.js";
import { dashboard } from "./queries/dashboards.js";
import { feedEvent } from "./test-support/feed.js";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import { mathsTermQuery } from "./test-support/maths-term.js";
import type { SchoolFixture } from "./test-support/school.js";

/*
 * A pupil transferred to another school after term 1 ended (domain.md: N counts the pupils on
 * roll at the end of the period). p1 of the fixture's 5А has maths marks and a term-1 result
 * there; on 2026-11-10, in term 2, p1 moves to 5В of school B. Term 1 stays school A's (p1 was
 * on its roll on 26 October); the year (and term 2) is school B's, where p1 ends it.
 */
const env = useTestEnvironment({ label: "reporting_transfer_attribution" });
let h: Harness;
let f: SchoolFixture;
const B = { schoolId: randomUUID(), municipalityId: randomUUID(), classGroupId: randomUUID() };
const YEAR = { startYear: 2026 };
const at = (day: string) => new Date(`${day}T09:00:00Z`);

/** A school's grade 5 in two half-years: the first ending on `firstLast`, the second from `secondFirst`. */
const halfYears = (
  where: { schoolId: string; municipalityId: string },
  firstLast: string,
  secondFirst: string,
  time: Date,
) =>
  feedEvent(
    "curriculum",
    `terms-${where.schoolId}`,
    "TermSystemDefined",
    {
      ...where,
      academicYear: YEAR,
      gradeLevels: [5],
      kind: TermKind.TERM_KIND_HALF_YEAR,
      terms: [
        { number: 1, firstDay: "2026-09-01", lastDay: firstLast },
        { number: 2, firstDay: secondFirst, lastDay: "2026-12-28" },
      ],
    },
    time,
  );

const pupils = async (level: Level, scopeId: string, term: number, basis: ResultBasis) => {
  const d = await dashboard(
    h.db,
    DEFAULT_METRICS_CONFIG,
    mathsTermQuery(f, {
      level,
      scopeId,
      basis,
      period: term === 0 ? { kind: "YEAR" } : { kind: "TERM", term },
      asOf: "2026-12-28",
    }),
  );
  return d.performance?.pupilCount.value;
};
const both = ["CURRENT", "PERIOD_MARKS"] as const;
let before: Record<string, number | null | undefined>;

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
  const where = { schoolId: B.schoolId, municipalityId: B.municipalityId };
  await h.publish([
    feedEvent(
      "identity",
      B.schoolId,
      "SchoolRegistered",
      { ...where, name: "МОУ «СОШ № 9»", timeZone: "Asia/Yekaterinburg" },
      at("2026-08-25"),
    ),
    feedEvent(
      "identity",
      B.classGroupId,
      "ClassGroupOpened",
      { ...where, classGroupId: B.classGroupId, academicYear: YEAR, gradeLevel: 5, letter: "В" },
      at("2026-08-25"),
    ),
    halfYears(where, "2026-10-26", "2026-11-05", at("2026-08-25")),
  ]);
  await h.caughtUp();
  before = {};
  for (const basis of both) {
    before[`A1${basis}`] = await pupils("CLASS_GROUP", f.cg, 1, basis);
    before[`SA1${basis}`] = await pupils("SCHOOL", f.schoolId, 1, basis);
  }
  before.A0 = await pupils("SCHOOL", f.schoolId, 0, "CURRENT");
  await h.publish([
    feedEvent(
      "identity",
      f.p.p1,
      "StudentTransferred",
      {
        personId: f.p.p1,
        fromClassGroupId: f.cg,
        fromSchoolId: f.schoolId,
        fromMunicipalityId: f.municipalityId,
        toClassGroupId: B.classGroupId,
        ...where,
        academicYear: YEAR,
        gradeLevel: 5,
        effectiveDate: "2026-11-10",
      },
      at("2026-11-10"),
    ),
  ]);
  await h.caughtUp();
});
afterAll(() => h?.close());

describe("a pupil transferred after a term ended", () => {
  it("counts in that term where they were on its last day, not at the new school", async () => {
    for (const basis of both) {
      expect(await pupils("CLASS_GROUP", f.cg, 1, basis)).toBe(before[`A1${basis}`]);
      expect(await pupils("SCHOOL", f.schoolId, 1, basis)).toBe(before[`SA1${basis}`]);
      expect(await pupils("CLASS_GROUP", B.classGroupId, 1, basis)).toBe(0);
      expect(await pupils("SCHOOL", B.schoolId, 1, basis)).toBe(0);
    }
  });

  it("counts for the year at the school whose roll they end it on", async () => {
    expect(await pupils("SCHOOL", B.schoolId, 0, "CURRENT")).toBe(1);
    expect(await pupils("SCHOOL", f.schoolId, 0, "CURRENT")).toBe((before.A0 ?? 0) - 1);
  });
});

describe("a term system redefined after the pupils' results", () => {
  it("attributes them again by the new last day, not only once a later mark touches them", async () => {
    // Term 1 of school A now ends on 12 November, after p1 left for school B (10 November):
    // p1 is on no roll at its end and leaves A's term-1 N; no mark of p1 comes after.
    const where = { schoolId: f.schoolId, municipalityId: f.municipalityId };
    await h.publish([halfYears(where, "2026-11-12", "2026-11-16", at("2026-11-11"))]);
    await h.caughtUp();
    for (const basis of both) {
      expect(await pupils("CLASS_GROUP", f.cg, 1, basis)).toBe((before[`A1${basis}`] ?? 0) - 1);
      expect(await pupils("SCHOOL", f.schoolId, 1, basis)).toBe((before[`SA1${basis}`] ?? 0) - 1);
    }
  });
});
