import { DEFINITIONS, type ResultBasis, withBasis } from "./definitions.js";
import { type Figure, ratio } from "./figure.js";
import type { PupilResult } from "./pupil-result.js";

/**
 * A pupil's standing across all subjects: counted when at least one subject is in N; passing
 * with no 1/2, fail or н/а anywhere; quality when passing and every five-point result is a 4
 * or 5 (at least one). The read models keep, per pupil, how many subjects are in each state,
 * so one changed subject moves the pupil without looking at the others.
 */
export interface PupilStanding {
  counted: number;
  failing: number;
  belowFour: number;
  fourOrFive: number;
}

export const emptyStanding = (): PupilStanding => ({
  counted: 0,
  failing: 0,
  belowFour: 0,
  fourOrFive: 0,
});

export function addToStanding(s: PupilStanding, r: PupilResult, sign: 1 | -1 = 1): void {
  if (r.kind === "EXEMPT" || r.kind === "NO_MARKS") return;
  s.counted += sign;
  if (r.kind === "FAIL" || r.kind === "NOT_ATTESTED" || (r.kind === "MARK" && r.mark <= 2))
    s.failing += sign;
  if (r.kind === "NOT_ATTESTED" || (r.kind === "MARK" && r.mark <= 3)) s.belowFour += sign;
  if (r.kind === "MARK" && r.mark >= 4) s.fourOrFive += sign;
}

export type StandingClass = "NOT_COUNTED" | "FAILING" | "PASSING" | "QUALITY";

export function classify(s: PupilStanding): StandingClass {
  if (s.counted === 0) return "NOT_COUNTED";
  if (s.failing > 0) return "FAILING";
  return s.belowFour === 0 && s.fourOrFive > 0 ? "QUALITY" : "PASSING";
}

/** Additive across populations (a pupil is in one class group at the end of the period). */
export interface AllSubjectsCounters {
  counted: number;
  passing: number;
  quality: number;
}

export const emptyAllSubjects = (): AllSubjectsCounters => ({ counted: 0, passing: 0, quality: 0 });

export function countStanding(c: AllSubjectsCounters, cls: StandingClass, sign: 1 | -1 = 1): void {
  if (cls === "NOT_COUNTED") return;
  c.counted += sign;
  if (cls === "PASSING" || cls === "QUALITY") c.passing += sign;
  if (cls === "QUALITY") c.quality += sign;
}

export interface AllSubjectsFigures {
  readonly pupilCount: Figure;
  readonly passRate: Figure;
  readonly qualityRate: Figure;
}

export function allSubjectsFigures(c: AllSubjectsCounters, basis: ResultBasis): AllSubjectsFigures {
  return {
    pupilCount: ratio(c.counted, 1, withBasis(DEFINITIONS.pupilCount, basis)),
    passRate: ratio(c.passing, c.counted, withBasis(DEFINITIONS.allSubjectsPass, basis)),
    qualityRate: ratio(c.quality, c.counted, withBasis(DEFINITIONS.allSubjectsQuality, basis)),
  };
}
