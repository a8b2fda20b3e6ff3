import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_METRICS_CONFIG } from "./domain/metrics/definitions.js";
import { type DashboardQuery, dashboard } from "./queries/dashboards.js";
import { diary } from "./queries/diary.js";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import { mathsTermJournal, mathsTermQuery } from "./test-support/maths-term.js";
import type { SchoolFixture } from "./test-support/school.js";

/*
 * The read model fed through NATS with the fixture of test-support/school.ts; every figure
 * below is hand-computed there (see the comments) and must equal the formula module's.
 */
const env = useTestEnvironment({ label: "reporting_projection" });
let h: Harness;
let f: SchoolFixture;

const dash = (over: Partial<DashboardQuery>) =>
  dashboard(h.db, DEFAULT_METRICS_CONFIG, mathsTermQuery(f, over));

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
});

afterAll(async () => {
  await h?.close();
});

describe("class group dashboard, maths, term 1", () => {
  it("on term marks: p6 withdrawn and p7 transferred out are off the roll; н/а stays in N", async () => {
    const d = await dash({});
    const p = d.performance;
    // p1 5, p2 4, p3 4, p4 3, p5 2, p8 н/а
    expect(p?.pupilCount.value).toBe(6);
    expect(p?.passRate).toMatchObject({ numerator: 4, denominator: 6, definition: "pass_rate.v1" });
    expect(p?.qualityPerPupil).toMatchObject({ numerator: 3, denominator: 6 });
    // (100 + 2·64 + 36 + 16 + 7) / 6
    expect(p?.degreeOfLearning).toMatchObject({
      numerator: 287,
      denominator: 6,
      definition: "sou.v1",
    });
  });

  it("mark-level figures count every mark of the journal, the leavers' too; PASS and н/а entries are not marks", async () => {
    const p = (await dash({})).performance;
    // 5,5,4,5,4,3,2,5(p6),2(p7) = 35/9; weighted (15+9+8+3+2+5+2)/(3+2+2+1+1+1+1) = 44/11
    expect(p?.average).toMatchObject({ numerator: 35, denominator: 9 });
    expect(p?.weightedAverage).toMatchObject({ numerator: 44, denominator: 11, value: 4 });
    expect(p?.qualityPerMark).toMatchObject({ numerator: 6, denominator: 9 });
    expect(p?.distribution.entries).toMatchObject({ PASS: 1, NOT_ATTESTED: 1 });
  });

  it("on the current basis rounds each pupil's weighted average, x.5 up (p2: 4.5 -> 5)", async () => {
    const p = (await dash({ basis: "CURRENT" })).performance;
    expect(p?.distribution.results).toEqual({
      1: 0,
      2: 1,
      3: 1,
      4: 1,
      5: 2,
      PASS: 0,
      FAIL: 0,
      NOT_ATTESTED: 1,
    });
    expect(p?.degreeOfLearning).toMatchObject({
      numerator: 323,
      denominator: 6,
      definition: "sou.v1+current",
    });
  });

  it("attendance: a full day of illness, lateness, a lesson with nobody absent", async () => {
    const d = await dash({ subjectId: "" });
    // three lessons with attendance taken (maths 07, PE 07, maths 08) × 8 pupils on the roll
    expect(d.attendance.attendanceRate).toMatchObject({ numerator: 22, denominator: 24 });
    expect(d.attendance.missedLessons).toMatchObject({ total: 2, illness: 2 });
    expect(d.attendance.missedDays).toMatchObject({ total: 1, illness: 1 });
    expect(d.attendance.lateness).toMatchObject({ arrivals: 1, minutes: 5 });
  });

  it("journal fill and timeliness: the cancelled lesson is not scheduled; L2's topic came 3 days late", async () => {
    const d = await dash({});
    expect(d.journal.fillRate).toMatchObject({ numerator: 2, denominator: 2 });
    // 2 topics + 11 marks + 2 attendance records; one (L2's topic) 3 days late
    expect(d.journal.timeliness).toMatchObject({
      numerator: 14,
      denominator: 15,
      definition: "entry_timeliness.v1(k=1)",
    });
    // programme: 32 hours; 2 lessons scheduled to date, L1 delivered a programme topic, L2 not
    expect(d.programmeDelivery).toMatchObject({
      numerator: 1,
      denominator: 2,
      definition: "programme_delivery.v1",
    });
    const all = await dash({ subjectId: "" });
    expect(all.programmeDelivery).toBeNull();
    expect(all.journal.fillRate).toMatchObject({ numerator: 2, denominator: 3 }); // PE lesson: no topic
  });

  it("a pass/fail subject passes or fails but has no quality", async () => {
    const p = (await dash({ subjectId: f.pe, basis: "CURRENT" })).performance;
    expect(p?.passRate).toMatchObject({ numerator: 1, denominator: 2 });
    expect(p?.qualityPerPupil.value).toBeNull();
  });

  it("all subjects per pupil, current basis", async () => {
    const d = await dash({ subjectId: "", basis: "CURRENT" });
    // p1 5+PASS quality; p2 5+FAIL failing; p3 4 quality; p4 3 passing; p5 2 failing; p8 н/а failing
    expect(d.allSubjects?.passRate).toMatchObject({ numerator: 3, denominator: 6 });
    expect(d.allSubjects?.qualityRate).toMatchObject({ numerator: 2, denominator: 6 });
    // The headline quality per pupil is that one, not maths' 4s and 5s (3 of 6) summed in.
    expect(d.quality).toMatchObject({
      numerator: 2,
      denominator: 6,
      definition: "quality_rate.all_subjects.v1+current",
    });
  });
});

describe("roll-up", () => {
  it("the transferred pupil counts in 5Б with the marks they brought; the school sums both class groups", async () => {
    const cg2 = (await dash({ scopeId: f.cg2, basis: "CURRENT" })).performance;
    expect(cg2?.distribution.results).toMatchObject({ 2: 1 });
    expect(cg2?.pupilCount.value).toBe(1);
    for (const [level, scopeId] of [
      ["SCHOOL", f.schoolId],
      ["MUNICIPALITY", f.municipalityId],
      ["REGION", "region"],
    ] as const) {
      const period =
        level === "SCHOOL" ? ({ kind: "TERM", term: 1 } as const) : ({ kind: "YEAR" } as const);
      const p = (await dash({ level, scopeId, basis: "CURRENT", period })).performance;
      expect(p?.pupilCount.value, level).toBe(7);
      expect(p?.distribution.results, level).toMatchObject({ 2: 2, 5: 2 });
    }
  });

  it("a term above a school is refused, naming the field", async () => {
    await expect(dash({ level: "MUNICIPALITY", scopeId: f.municipalityId })).rejects.toThrow(
      /period\.term/,
    );
  });
});

describe("corrections and revocations", () => {
  it("move the pupil between buckets", async () => {
    await h.publish([f.later.correctP5(), f.later.revokeP2()]);
    await h.caughtUp();
    const p = (await dash({ basis: "CURRENT" })).performance;
    // p5 2 -> 4; p2 loses the 5 -> 4
    expect(p?.distribution.results).toEqual({
      1: 0,
      2: 0,
      3: 1,
      4: 3,
      5: 1,
      PASS: 0,
      FAIL: 0,
      NOT_ATTESTED: 1,
    });
    expect(p?.average).toMatchObject({ numerator: 32, denominator: 8 });
  });
});

describe("diary and journal view", () => {
  it("the diary shows lessons with topic and homework, marks, absences, averages and term marks", async () => {
    const d = await diary(h.db, f.p.p1, "2026-09-01", "2026-09-30");
    expect(d.lessons.map((l) => l.topic)).toEqual(["Fractions", "", "Decimals", ""]);
    expect(d.lessons[0]?.homework).toBe("No. 12");
    expect(d.marks.map((m) => m.value)).toEqual(["5", "PASS", "5"]);
    expect(d.absences).toHaveLength(2);
    expect(d.averages).toContainEqual({
      subjectId: f.math,
      term: 1,
      weightedAverage: "5.00",
      roundedMark: 5,
    });
    expect(d.termMarks).toEqual([{ subjectId: f.math, term: 1, value: "5" }]);
  });

  it("the journal view lists lessons × pupils in roster order", async () => {
    const v = await mathsTermJournal(h.db, f);
    expect(v.studentIds).toHaveLength(8);
    expect(v.lessons).toHaveLength(3);
    expect(v.marks.filter((m) => m.studentId === f.p.p1)).toHaveLength(2);
    expect(v.termMarks).toHaveLength(6);
    expect(v.averages).toContainEqual(
      expect.objectContaining({ studentId: f.p.p2, weightedAverage: "4.00", roundedMark: 4 }),
    );
  });
});
