import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { allSubjectsFigures } from "./all-subjects.js";
import { type PupilFacts, performanceFromFacts } from "./from-facts.js";
import { addPerformance, emptyPerformance, performanceFigures } from "./performance.js";
import type { PupilSubjectFacts } from "./pupil-result.js";
import type { Entry, EntryValue } from "./values.js";

/*
 * Class 5А, term 2, hand-computed. Mathematics (five-point) and PE (pass/fail).
 *   p1 5 (entries 5w1 5w2 = 15/3 = 5.0)       PE PASS
 *   p2 4 (4w1 5w1 = 4.5 -> current 5)         PE FAIL
 *   p3 4 (4w2)                                PE н/а
 *   p4 3 (3w1, PASS entry is not a mark)      PE exempt
 *   p5 2 (2w1)                                PE no entries
 *   p6 н/а (only an н/а entry)
 *   p7 exempt in maths, term mark ignored
 *   p8 no marks at all
 *   p9 withdrawn mid-term (5w1) — off the roll at the end
 *   p10 transferred in mid-term, 3 (3w1)
 *   p11 transferred out mid-term (2w1) — off the roll at the end
 */
const e = (value: EntryValue, weight = 1): Entry => ({ value, weight });
const maths = (
  periodMark: EntryValue | undefined,
  entries: Entry[],
  exempt = false,
): PupilSubjectFacts => ({
  scale: "FIVE_POINT",
  exempt,
  periodMark,
  entries,
});
const pe = (
  periodMark: EntryValue | undefined,
  entries: Entry[],
  exempt = false,
): PupilSubjectFacts => ({
  scale: "PASS_FAIL",
  exempt,
  periodMark,
  entries,
});
const pupil = (
  studentId: string,
  subjects: Record<string, PupilSubjectFacts>,
  onRollAtEnd = true,
): PupilFacts => ({
  studentId,
  onRollAtEnd,
  subjects,
});

const CLASS: PupilFacts[] = [
  pupil("p1", { maths: maths(5, [e(5), e(5, 2)]), pe: pe("PASS", [e("FAIL"), e("PASS")]) }),
  pupil("p2", { maths: maths(4, [e(4), e(5)]), pe: pe("FAIL", [e("FAIL")]) }),
  pupil("p3", { maths: maths(4, [e(4, 2)]), pe: pe("NOT_ATTESTED", [e("NOT_ATTESTED")]) }),
  pupil("p4", { maths: maths(3, [e(3), e("PASS")]), pe: pe(undefined, [], true) }),
  pupil("p5", { maths: maths(2, [e(2)]), pe: pe(undefined, []) }),
  pupil("p6", { maths: maths("NOT_ATTESTED", [e("NOT_ATTESTED")]) }),
  pupil("p7", { maths: maths(4, [], true) }),
  pupil("p8", { maths: maths(undefined, []) }),
  pupil("p9", { maths: maths(undefined, [e(5)]) }, false),
  pupil("p10", { maths: maths(3, [e(3)]) }),
  pupil("p11", { maths: maths(undefined, [e(2)]) }, false),
];

describe("one five-point subject on term marks", () => {
  const c =
    performanceFromFacts(CLASS, "PERIOD_MARKS").bySubject.get("maths") ?? emptyPerformance();
  const f = performanceFigures(c, "PERIOD_MARKS");

  it("leaves exempt pupils, pupils without marks and leavers out of N and keeps н/а in", () => {
    // on roll: p1-p8, p10 = 9; minus p7 (exempt) and p8 (no marks) = 7
    expect(c.onRoll).toBe(9);
    expect(c.exempt).toBe(1);
    expect(c.noMarks).toBe(1);
    expect(f.pupilCount.value).toBe(7);
    expect(f.pupilCount.definition).toBe("pupil_count.v1");
  });

  it("pass rate counts 5, 4 and 3; н/а and 2 fail", () => {
    expect(f.passRate).toEqual({
      value: 5 / 7,
      numerator: 5,
      denominator: 7,
      definition: "pass_rate.v1",
    });
  });

  it("quality per pupil counts 5 and 4", () => {
    expect(f.qualityPerPupil).toMatchObject({
      numerator: 3,
      denominator: 7,
      definition: "quality_rate.per_pupil.v1",
    });
  });

  it("СОУ = (100·1 + 64·2 + 36·2 + 16·1 + 7·1) / 7 = 323/7 %", () => {
    expect(f.degreeOfLearning.numerator).toBe(323);
    expect(f.degreeOfLearning.value).toBeCloseTo(46.142857, 5);
    expect(f.degreeOfLearning.definition).toBe("sou.v1");
  });

  it("averages count every mark of the period's journal, leavers' too; special entries are not marks", () => {
    // marks 5,5,4,5,4,3,2,5(p9),3,2(p11): 38/10; weighted 47/12
    expect(f.average).toEqual({
      value: 3.8,
      numerator: 38,
      denominator: 10,
      definition: "average_mark.v1",
    });
    expect(f.weightedAverage).toMatchObject({
      numerator: 47,
      denominator: 12,
      definition: "weighted_average.v1",
    });
    expect(f.weightedAverage.value).toBeCloseTo(3.916667, 5);
  });

  it("per-mark quality = 4s and 5s among marks", () => {
    expect(f.qualityPerMark).toEqual({
      value: 0.6,
      numerator: 6,
      denominator: 10,
      definition: "quality_rate.per_mark.v1",
    });
  });

  it("mark distribution of results and of entries", () => {
    expect(f.distribution.results).toEqual({
      1: 0,
      2: 1,
      3: 2,
      4: 2,
      5: 1,
      PASS: 0,
      FAIL: 0,
      NOT_ATTESTED: 1,
    });
    expect(f.distribution.entries).toEqual({
      1: 0,
      2: 2,
      3: 2,
      4: 2,
      5: 4,
      PASS: 1,
      FAIL: 0,
      NOT_ATTESTED: 1,
    });
  });
});

describe("one five-point subject during the term (current basis)", () => {
  const c = performanceFromFacts(CLASS, "CURRENT").bySubject.get("maths") ?? emptyPerformance();
  const f = performanceFigures(c, "CURRENT");

  it("rounds each pupil's weighted average, x.5 up (p2: 4.5 -> 5), and says so", () => {
    expect(f.distribution.results).toEqual({
      1: 0,
      2: 1,
      3: 2,
      4: 1,
      5: 2,
      PASS: 0,
      FAIL: 0,
      NOT_ATTESTED: 1,
    });
    expect(f.passRate).toMatchObject({
      numerator: 5,
      denominator: 7,
      definition: "pass_rate.v1+current",
    });
    expect(f.qualityPerPupil).toMatchObject({ numerator: 3, denominator: 7 });
    // (200 + 64 + 72 + 16 + 7) / 7
    expect(f.degreeOfLearning).toMatchObject({
      numerator: 359,
      denominator: 7,
      definition: "sou.v1+current",
    });
  });
});

describe("a pass/fail subject", () => {
  const c = performanceFromFacts(CLASS, "PERIOD_MARKS").bySubject.get("pe") ?? emptyPerformance();
  const f = performanceFigures(c, "PERIOD_MARKS");

  it("counts in the pass rate (a fail and н/а fail) but not in quality, СОУ or averages", () => {
    // in N: p1 PASS, p2 FAIL, p3 н/а; p4 exempt, p5 without entries
    expect(f.pupilCount.value).toBe(3);
    expect(f.passRate).toMatchObject({ numerator: 1, denominator: 3 });
    expect(f.qualityPerPupil).toMatchObject({ value: null, denominator: 0 });
    expect(f.degreeOfLearning).toMatchObject({ value: null, numerator: 0, denominator: 0 });
    expect(f.distribution.results).toMatchObject({ PASS: 1, FAIL: 1, NOT_ATTESTED: 1 });
    expect(f.average.value).toBeNull();
    expect(f.weightedAverage.value).toBeNull();
  });

  it("on the current basis takes the latest pass/fail entry", () => {
    const cur = performanceFromFacts(CLASS, "CURRENT").bySubject.get("pe") ?? emptyPerformance();
    expect(cur.nPass).toBe(1); // p1: FAIL then PASS
    expect(cur.nFail).toBe(1);
    expect(cur.nNotAttestedPassFail).toBe(1);
  });
});

describe("all subjects per pupil", () => {
  it("passes with no 2, fail or н/а anywhere; quality with only 4 and 5", () => {
    const { allSubjects } = performanceFromFacts(CLASS, "PERIOD_MARKS");
    // counted: p1-p6, p10 (p7, p8 have nothing in N); passing: p1, p4, p10; quality: p1
    expect(allSubjects).toEqual({ counted: 7, passing: 3, quality: 1 });
    const f = allSubjectsFigures(allSubjects, "PERIOD_MARKS");
    expect(f.passRate).toMatchObject({
      numerator: 3,
      denominator: 7,
      definition: "pass_rate.all_subjects.v1",
    });
    expect(f.qualityRate).toMatchObject({
      numerator: 1,
      denominator: 7,
      definition: "quality_rate.all_subjects.v1",
    });
  });
});

describe("counters are additive", () => {
  it("two class groups' counters sum to the counters of both together", () => {
    const a = CLASS.slice(0, 5);
    const b = CLASS.slice(5);
    const sum = addPerformance(
      performanceFromFacts(a, "CURRENT").bySubject.get("maths") ?? emptyPerformance(),
      performanceFromFacts(b, "CURRENT").bySubject.get("maths") ?? emptyPerformance(),
    );
    expect(sum).toEqual(performanceFromFacts(CLASS, "CURRENT").bySubject.get("maths"));
  });
});

describe("bad input", () => {
  it("names the field of an off-scale entry", () => {
    const bad = [
      pupil("x", { maths: maths(undefined, [{ value: 6 as unknown as EntryValue, weight: 1 }]) }),
    ];
    expect(() => performanceFromFacts(bad, "CURRENT")).toThrow(DomainError);
    expect(() => performanceFromFacts(bad, "CURRENT")).toThrow(
      /pupils\[0\]\.subjects\.maths\.entries\[0\]\.value/,
    );
  });

  it("names the field of a non-positive weight", () => {
    const bad = [pupil("x", { maths: maths(undefined, [e(4, 0)]) })];
    expect(() => performanceFromFacts(bad, "CURRENT")).toThrow(/entries\[0\]\.weight/);
  });
});
