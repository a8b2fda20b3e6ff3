import { DEFINITIONS, type ResultBasis, withBasis } from "./definitions.js";
import { type Figure, ratio } from "./figure.js";
import type { PupilResult } from "./pupil-result.js";
import { type Entry, isFivePoint } from "./values.js";

/**
 * Additive counters of one subject (or all subjects summed) over a population: a class
 * group's counters add up to a school's, a school's to a municipality's, and so on. The
 * incremental read models keep exactly these, so a dashboard is a sum plus `performanceFigures`.
 */
export interface PerformanceCounters {
  /** Pupil-subject results (pupils on roll at the end of the period). */
  onRoll: number;
  exempt: number;
  noMarks: number;
  /** n1..n5 by index 1..5 (index 0 unused). */
  n: [number, number, number, number, number, number];
  nPass: number;
  nFail: number;
  /** н/а in five-point subjects (in quality and СОУ) and in pass/fail subjects (pass rate only). */
  nNotAttested: number;
  nNotAttestedPassFail: number;
  /** Current entries recorded in the period, by value (index 1..5), and special entries. */
  marks: [number, number, number, number, number, number];
  passEntries: number;
  failEntries: number;
  notAttestedEntries: number;
  sumMarks: number;
  sumWeighted: number;
  sumWeights: number;
}

export const emptyPerformance = (): PerformanceCounters => ({
  onRoll: 0,
  exempt: 0,
  noMarks: 0,
  n: [0, 0, 0, 0, 0, 0],
  nPass: 0,
  nFail: 0,
  nNotAttested: 0,
  nNotAttestedPassFail: 0,
  marks: [0, 0, 0, 0, 0, 0],
  passEntries: 0,
  failEntries: 0,
  notAttestedEntries: 0,
  sumMarks: 0,
  sumWeighted: 0,
  sumWeights: 0,
});

/** Adds (sign 1) or removes (sign -1) one pupil's result: how read models move a pupil between buckets. */
export function countResult(c: PerformanceCounters, r: PupilResult, sign: 1 | -1 = 1): void {
  c.onRoll += sign;
  switch (r.kind) {
    case "EXEMPT":
      c.exempt += sign;
      break;
    case "NO_MARKS":
      c.noMarks += sign;
      break;
    case "MARK":
      c.n[r.mark] += sign;
      break;
    case "PASS":
      c.nPass += sign;
      break;
    case "FAIL":
      c.nFail += sign;
      break;
    case "NOT_ATTESTED":
      if (r.passFail) c.nNotAttestedPassFail += sign;
      else c.nNotAttested += sign;
      break;
  }
}

/** Adds or removes one current entry (a mark recorded, corrected or revoked). */
export function countEntry(c: PerformanceCounters, e: Entry, sign: 1 | -1 = 1): void {
  if (isFivePoint(e.value)) {
    c.marks[e.value] += sign;
    c.sumMarks += sign * e.value;
    c.sumWeighted += sign * e.weight * e.value;
    c.sumWeights += sign * e.weight;
  } else if (e.value === "PASS") c.passEntries += sign;
  else if (e.value === "FAIL") c.failEntries += sign;
  else c.notAttestedEntries += sign;
}

export function addPerformance(
  into: PerformanceCounters,
  c: PerformanceCounters,
): PerformanceCounters {
  into.onRoll += c.onRoll;
  into.exempt += c.exempt;
  into.noMarks += c.noMarks;
  into.nPass += c.nPass;
  into.nFail += c.nFail;
  into.nNotAttested += c.nNotAttested;
  into.nNotAttestedPassFail += c.nNotAttestedPassFail;
  into.passEntries += c.passEntries;
  into.failEntries += c.failEntries;
  into.notAttestedEntries += c.notAttestedEntries;
  into.sumMarks += c.sumMarks;
  into.sumWeighted += c.sumWeighted;
  into.sumWeights += c.sumWeights;
  for (let k = 1; k <= 5; k++) {
    into.n[k] = (into.n[k] ?? 0) + (c.n[k] ?? 0);
    into.marks[k] = (into.marks[k] ?? 0) + (c.marks[k] ?? 0);
  }
  return into;
}

export interface PerformanceFigures {
  readonly pupilCount: Figure;
  readonly passRate: Figure;
  readonly qualityPerPupil: Figure;
  readonly qualityPerMark: Figure;
  readonly degreeOfLearning: Figure;
  readonly average: Figure;
  readonly weightedAverage: Figure;
  readonly distribution: {
    readonly definition: string;
    /** Period results: n1..n5, pass, fail, н/а (the pupils in N). */
    readonly results: Readonly<
      Record<"1" | "2" | "3" | "4" | "5" | "PASS" | "FAIL" | "NOT_ATTESTED", number>
    >;
    /** Current entries recorded in the period. */
    readonly entries: Readonly<
      Record<"1" | "2" | "3" | "4" | "5" | "PASS" | "FAIL" | "NOT_ATTESTED", number>
    >;
  };
}

/**
 * domain.md, for one subject:
 * - N = on roll at the end − exempt − without marks (н/а stays in);
 * - pass rate = (n5+n4+n3+pass)/N — a fail or н/а fails;
 * - quality = (n5+n4)/N', СОУ = (100n5+64n4+36n3+16n2+16n1+7n_na)/N', where N' = N minus
 *   pass/fail results (н/а of a pass/fail subject included) (pass/fail counts in the pass rate only); a 1 is unsatisfactory like a 2;
 * - per-mark quality = current 4s and 5s / current marks;
 * - average = Σm / #marks, weighted = Σw·m / Σw over current marks (special entries are not marks).
 */
export function performanceFigures(c: PerformanceCounters, basis: ResultBasis): PerformanceFigures {
  const [, n1, n2, n3, n4, n5] = c.n;
  const fivePointN = n1 + n2 + n3 + n4 + n5 + c.nNotAttested;
  const N = fivePointN + c.nPass + c.nFail + c.nNotAttestedPassFail;
  const [, m1, m2, m3, m4, m5] = c.marks;
  const markCount = m1 + m2 + m3 + m4 + m5;
  const d = (def: string) => withBasis(def, basis);
  return {
    pupilCount: ratio(N, 1, d(DEFINITIONS.pupilCount)),
    passRate: ratio(n5 + n4 + n3 + c.nPass, N, d(DEFINITIONS.passRate)),
    qualityPerPupil: ratio(n5 + n4, fivePointN, d(DEFINITIONS.qualityPerPupil)),
    qualityPerMark: ratio(m5 + m4, markCount, DEFINITIONS.qualityPerMark),
    degreeOfLearning: ratio(
      100 * n5 + 64 * n4 + 36 * n3 + 16 * (n2 + n1) + 7 * c.nNotAttested,
      fivePointN,
      d(DEFINITIONS.degreeOfLearning),
    ),
    average: ratio(c.sumMarks, markCount, DEFINITIONS.average),
    weightedAverage: ratio(c.sumWeighted, c.sumWeights, DEFINITIONS.weightedAverage),
    distribution: {
      definition: d(DEFINITIONS.distribution),
      results: {
        1: n1,
        2: n2,
        3: n3,
        4: n4,
        5: n5,
        PASS: c.nPass,
        FAIL: c.nFail,
        NOT_ATTESTED: c.nNotAttested + c.nNotAttestedPassFail,
      },
      entries: {
        1: m1,
        2: m2,
        3: m3,
        4: m4,
        5: m5,
        PASS: c.passEntries,
        FAIL: c.failEntries,
        NOT_ATTESTED: c.notAttestedEntries,
      },
    },
  };
}
