import type { ResultBasis } from "./definitions.js";
import { roundedMark, type WeightedSum } from "./rounding.js";
import { type Entry, type EntryValue, type FivePoint, isFivePoint, type Scale } from "./values.js";

/**
 * A pupil's result in one subject for one period, as the denominator rules see it:
 * exempt (осв.) and pupils without marks are left out of N, "not attested" (н/а) stays in.
 */
export type PupilResult =
  | { readonly kind: "MARK"; readonly mark: FivePoint }
  | { readonly kind: "PASS" }
  | { readonly kind: "FAIL" }
  /** `passFail`: н/а in a pass/fail subject, which stays out of quality and СОУ. */
  | { readonly kind: "NOT_ATTESTED"; readonly passFail?: true }
  | { readonly kind: "EXEMPT" }
  | { readonly kind: "NO_MARKS" };

export interface PupilSubjectFacts {
  readonly scale: Scale;
  /** Exempt in the subject for the period (осв.), a fact per pupil, subject and period. */
  readonly exempt: boolean;
  /** The term or year mark, when the teacher has set one. */
  readonly periodMark?: EntryValue | undefined;
  /** Current entries of the period in recording order (revoked ones already removed). */
  readonly entries: readonly Entry[];
}

function fromValue(scale: Scale, v: EntryValue): PupilResult {
  if (isFivePoint(v)) return { kind: "MARK", mark: v };
  return v === "NOT_ATTESTED" && scale === "PASS_FAIL" ? { kind: v, passFail: true } : { kind: v };
}

/** Sum of w·m over the five-point marks; pass, fail and н/а entries are not marks. */
export function weightedSumOf(entries: readonly Entry[]): WeightedSum {
  let sumWeighted = 0;
  let sumWeights = 0;
  for (const e of entries) {
    if (!isFivePoint(e.value)) continue;
    sumWeighted += e.weight * e.value;
    sumWeights += e.weight;
  }
  return { sumWeighted, sumWeights };
}

/**
 * The current result from entries: five-point journals round the weighted average (x.5 up),
 * falling back to н/а when the only entries are н/а; pass/fail journals take the latest
 * pass, fail or н/а entry.
 */
export function currentResult(scale: Scale, entries: readonly Entry[]): PupilResult {
  if (scale === "FIVE_POINT") {
    const mark = roundedMark(weightedSumOf(entries));
    if (mark !== null) return { kind: "MARK", mark };
    return entries.some((e) => e.value === "NOT_ATTESTED")
      ? { kind: "NOT_ATTESTED" }
      : { kind: "NO_MARKS" };
  }
  for (let i = entries.length - 1; i >= 0; i--) {
    const v = entries[i]?.value;
    if (v === "PASS" || v === "FAIL" || v === "NOT_ATTESTED") return fromValue(scale, v);
  }
  return { kind: "NO_MARKS" };
}

/** Resolves the period result on the chosen basis; exemption wins over any entry. */
export function pupilResult(f: PupilSubjectFacts, basis: ResultBasis): PupilResult {
  if (f.exempt) return { kind: "EXEMPT" };
  if (basis === "PERIOD_MARKS")
    return f.periodMark === undefined ? { kind: "NO_MARKS" } : fromValue(f.scale, f.periodMark);
  return currentResult(f.scale, f.entries);
}
